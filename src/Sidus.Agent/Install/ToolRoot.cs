namespace Sidus.Agent.Install;

/// <summary>
/// Runs the image's own tools (sfdisk, mkfs, blkid, grub-install) inside a root: the install's copy of the image
/// (its export, read-only under a tmpfs overlay) or the installed system itself. The initramfs has none of them and
/// should not: the image's versions match its kernel and its bootloader. The root gets /dev, /proc and /sys bound in;
/// a tool runs as a child of the agent that chroots into the root and execs it (<c>/init exec-in ROOT TOOL ARGS</c>),
/// with a plain environment.
/// </summary>
internal sealed class ToolRoot(string root)
{
    private static readonly string[] KernelTrees = ["/dev", "/proc", "/sys"];
    private static readonly string[] Search = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(30);
    private static readonly Dictionary<string, string> Environment = new(StringComparer.Ordinal)
    {
        ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin",
        ["LC_ALL"] = "C",
        ["DEBIAN_FRONTEND"] = "noninteractive",
        ["HOME"] = "/root",
    };

    private readonly List<string> _bound = [];

    public string Root => root;

    /// <summary>Binds the kernel's /dev, /proc and /sys into the root (idempotent).</summary>
    public void BindKernelTrees()
    {
        foreach (var tree in KernelTrees)
        {
            var target = root + tree;
            if (_bound.Contains(target))
            {
                continue;
            }

            Directory.CreateDirectory(target);
            Mounts.Mount(tree, target, null, Mounts.MS_BIND | Mounts.MS_REC);
            _bound.Add(target);
        }
    }

    /// <summary>Undoes <see cref="BindKernelTrees"/>; lazily, so a tool's leftover open file never blocks the install.</summary>
    public void Unbind()
    {
        foreach (var target in Enumerable.Reverse(_bound))
        {
            try
            {
                Mounts.Unmount(target, 2); // MNT_DETACH
            }
            catch (LinuxException e)
            {
                AgentConsole.Fail($"unmounting {target}: {e.Message}");
            }
        }

        _bound.Clear();
    }

    /// <summary>TOOL's path inside the root, or null when the root has none.</summary>
    public string? Find(string tool) => Search.Select(d => d + "/" + tool).FirstOrDefault(p => File.Exists(root + p));

    /// <summary>Whether PATH (inside the root) exists, as a file or a directory.</summary>
    public bool Has(string path) => File.Exists(root + path) || Directory.Exists(root + path);

    /// <summary>Runs TOOL in the root and gives its result; INPUT is its standard input.</summary>
    public ProcessResult Run(string tool, IReadOnlyList<string> arguments, string package, string? input = null)
    {
        var path = Find(tool) ?? throw new InstallException($"the image has no {tool}: add it with `sidus image exec IMAGE -- apt-get install -y {package}`");
        var self = System.Environment.ProcessPath ?? "/init";
        return ProcessRunner.Run(self, ["exec-in", root, path, .. arguments], package, Limit,
            input is null ? null : stream => stream.Write(Encoding.UTF8.GetBytes(input)), Environment);
    }

    /// <summary><see cref="Run"/>, failing with the tool's own words when it does not succeed.</summary>
    public string Must(string tool, IReadOnlyList<string> arguments, string package, string? input = null)
    {
        var result = Run(tool, arguments, package, input);
        if (result.ExitCode != 0)
        {
            var said = (result.Errors + "\n" + result.Output).Trim();
            throw new InstallException($"{tool} {string.Join(' ', arguments)} failed ({result.ExitCode}): {Last(said, 600)}");
        }

        return result.Output;
    }

    /// <summary>The agent's half of <c>exec-in</c>: chroot into ROOT and become PROGRAM. Returns only by failing.</summary>
    public static int ExecIn(string root, string program, IReadOnlyList<string> arguments)
    {
        try
        {
            ProcessRoot.ChangeRoot(root);
            ProcessRoot.ChangeDirectory("/");
            ProcessRoot.Exec(program, [program, .. arguments]);
        }
        catch (LinuxException e)
        {
            Console.Error.WriteLine($"sidus-agent exec-in {root} {program}: {e.Message}");
        }

        return 127;
    }

    private static string Last(string text, int length) => text.Length <= length ? text : "..." + text[^length..];
}

/// <summary>Why the install stops: said on the console and to the server; the disk is left as the message says.</summary>
internal sealed class InstallException(string message) : Exception(message);
