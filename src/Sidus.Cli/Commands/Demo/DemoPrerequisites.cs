using Sidus.Server.Configuration;

namespace Sidus.Cli.Commands.Demo;

/// <summary>
/// The tools the demo needs, found before anything is created: debootstrap for its image; for the network boot QEMU,
/// iPXE's ROM for QEMU's virtio NIC, iproute2, mkfs.erofs, ssh-keygen, the node agent, and how to start this very
/// `sidus` again (for `sidus serve` in the namespace). `./sidus demo` installs the packages before it builds sidus;
/// this check speaks for a sidus run another way, naming the same packages (<see cref="DemoPackages"/>).
/// </summary>
internal sealed record DemoPrerequisites(string Qemu, string Agent, IReadOnlyList<string> Sidus)
{
    /// <summary>iPXE as QEMU's option ROM for virtio-net (Debian's ipxe-qemu; BIOS and EFI images in one file). QEMU
    /// loads it by default for the device (naming it with romfile= stops SeaBIOS from booting it here).</summary>
    public const string IpxeRom = "/usr/lib/ipxe/qemu/efi-virtio.rom";

    /// <summary>Finds everything or says in one message what to install; null when <paramref name="boot"/> is false
    /// (the store steps need only debootstrap).</summary>
    public static DemoPrerequisites? Find(bool boot)
    {
        var missing = new List<string>();
        FindTool("debootstrap", missing);
        if (!boot)
        {
            ThrowIfMissing(missing, boot, agentProblem: null);
            return null;
        }

        var qemu = FindTool("qemu-system-x86_64", missing);
        if (!File.Exists(IpxeRom))
        {
            missing.Add(IpxeRom);
        }

        FindTool("ip", missing);
        FindTool("mkfs.erofs", missing);
        FindTool("ssh-keygen", missing);
        var agent = Path.Combine(AppContext.BaseDirectory, BootSettings.AgentFileName);
        var agentProblem = File.Exists(agent)
            ? null
            : $"the node agent {agent} is missing (./sidus builds it next to the CLI: run the demo as ./sidus demo)";
        ThrowIfMissing(missing, boot, agentProblem);
        return new DemoPrerequisites(qemu!, agent, Self());
    }

    private static void ThrowIfMissing(List<string> missing, bool boot, string? agentProblem)
    {
        var problems = new List<string>();
        if (missing.Count > 0)
        {
            problems.Add($"the demo needs {string.Join(", ", missing)}: {DemoPackages.InstallCommand(boot)}" +
                         " (./sidus demo installs them itself)");
        }

        if (agentProblem is not null)
        {
            problems.Add(agentProblem);
        }

        if (problems.Count > 0)
        {
            throw new StoreException(string.Join("; ", problems), StoreErrorKind.Failure);
        }
    }

    /// <summary>The command that runs this sidus: its own executable, or `dotnet sidus.dll` when run that way.</summary>
    private static IReadOnlyList<string> Self()
    {
        var process = Environment.ProcessPath ?? throw new StoreException("cannot tell which executable runs sidus");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, Path.Combine(AppContext.BaseDirectory, "sidus.dll")]
            : [process];
    }

    /// <summary>The tool's path, or null with its name added to <paramref name="missing"/>.</summary>
    private static string? FindTool(string name, List<string> missing)
    {
        var path = ProcessRunner.Find(name);
        if (path is null)
        {
            missing.Add(name);
        }

        return path;
    }
}
