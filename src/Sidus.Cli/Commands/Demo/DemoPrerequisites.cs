using Sidus.Server.Configuration;

namespace Sidus.Cli.Commands.Demo;

/// <summary>
/// The tools the demo's network boot needs, found before anything is created: QEMU, iPXE's ROM for QEMU's virtio
/// NIC, iproute2, the node agent, and how to start this very `sidus` again (for `sidus serve` in the namespace).
/// </summary>
internal sealed record DemoPrerequisites(string Qemu, string Agent, IReadOnlyList<string> Sidus)
{
    /// <summary>iPXE as QEMU's option ROM for virtio-net (Debian's ipxe-qemu; BIOS and EFI images in one file). QEMU
    /// loads it by default for the device (naming it with romfile= stops SeaBIOS from booting it here).</summary>
    public const string IpxeRom = "/usr/lib/ipxe/qemu/efi-virtio.rom";

    /// <summary>Finds everything or says in one message what to install.</summary>
    public static DemoPrerequisites Find()
    {
        var missing = new List<string>();
        var qemu = FindTool("qemu-system-x86_64");
        if (qemu is null)
        {
            missing.Add("qemu-system-x86_64 (apt-get install qemu-system-x86)");
        }

        if (!File.Exists(IpxeRom))
        {
            missing.Add($"{IpxeRom} (apt-get install ipxe-qemu)");
        }

        if (FindTool("ip") is null)
        {
            missing.Add("ip (apt-get install iproute2)");
        }

        var agent = Path.Combine(AppContext.BaseDirectory, BootSettings.AgentFileName);
        if (!File.Exists(agent))
        {
            missing.Add($"the node agent {agent} (./sidus builds it next to the CLI: run the demo as ./sidus demo)");
        }

        if (missing.Count > 0)
        {
            throw new StoreException("the network boot needs: " + string.Join("; ", missing), StoreErrorKind.Failure);
        }

        return new DemoPrerequisites(qemu!, agent, Self());
    }

    /// <summary>The command that runs this sidus: its own executable, or `dotnet sidus.dll` when run that way.</summary>
    private static IReadOnlyList<string> Self()
    {
        var process = Environment.ProcessPath ?? throw new StoreException("cannot tell which executable runs sidus");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, Path.Combine(AppContext.BaseDirectory, "sidus.dll")]
            : [process];
    }

    private static string? FindTool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Concat(["/usr/sbin", "/sbin"])
            .Where(d => d.Length > 0)
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);
}
