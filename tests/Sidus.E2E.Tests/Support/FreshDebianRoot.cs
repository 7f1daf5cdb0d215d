using Sidus.Store.Build;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A fresh Debian bookworm root (debootstrap minbase, plus the libraries the .NET SDK's own packages bring), as a new
/// user's machine would be: unpacked from a tarball cached under /var/tmp/sidus-e2e (debootstrap runs once), with the
/// host's apt sources, apt settings and name resolution (the mirror this machine reaches), the host's .NET SDK
/// mounted read-only where the host has it, and this checkout's ./sidus, ./test and tools/ copied to /opt/sidus (no
/// sources: a build there fails at once). Every command runs
/// in private mount and PID namespaces (<see cref="Run"/>), so no mount or daemon outlives it; Dispose removes the
/// root, refusing when a mount is still under it.
/// </summary>
public sealed class FreshDebianRoot : IDisposable
{
    /// <summary>Where this checkout's ./sidus, ./test and tools/ are inside the root (not its sources).</summary>
    public const string CheckoutPath = "/opt/sidus";

    /// <summary>The prerequisites script and its package lists inside the root.</summary>
    public const string ToolsPath = CheckoutPath + "/tools";

    /// <summary>Where the test's own output directory (the JIT sidus.dll) is mounted read-only inside the root.</summary>
    public const string SidusPath = "/opt/sidus/bin";

    /// <summary>What the .NET SDK's Debian packages (dotnet-runtime-deps) install beside it: a machine "with the
    /// .NET SDK" has them, so the fresh root does too.</summary>
    public static readonly IReadOnlyList<string> SdkDependencies = ["ca-certificates", "libicu72", "libssl3"];

    private const string Cache = "/var/tmp/sidus-e2e";
    private const string RecipeVersion = "v1";
    private static readonly string CachedTarball = Path.Combine(Cache, $"setup-root-bookworm-minbase-{RecipeVersion}.tar.zst");
    private static readonly Lock Gate = new();

    // $1 = root, $2 = the SDK directory, $3 = the test's output directory, rest = the command run in the root.
    private const string NamespaceScript = """
        set -e
        root="$1"; sdk="$2"; bin="$3"; shift 3
        mount --rbind /dev "$root/dev"
        mount --make-rslave "$root/dev"
        mount -t proc proc "$root/proc"
        mount -t sysfs -o ro sysfs "$root/sys"
        mount -t tmpfs -o mode=0755 tmpfs "$root/run"
        mount --bind -o ro "$sdk" "$root$sdk"
        mount --bind -o ro "$bin" "$root/opt/sidus/bin"
        export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        exec chroot "$root" "$@"
        """;

    private readonly string _sdk;
    private readonly string _output = AppContext.BaseDirectory.TrimEnd('/');

    private FreshDebianRoot(string path, string sdk)
    {
        Location = path;
        _sdk = sdk;
    }

    /// <summary>The root's directory on the host.</summary>
    public string Location { get; }

    /// <summary>How long unpacking took, and whether debootstrap had to run first.</summary>
    public TimeSpan Prepared { get; private set; }

    public bool Built { get; private set; }

    /// <summary>Unpacks a new root (debootstrap first when there is no cached tarball) and lends it the host's apt and
    /// resolver configuration, the SDK and the tools.</summary>
    public static FreshDebianRoot Create(string repositoryRoot)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var built = EnsureCachedTarball();
        var sdk = SdkDirectory();
        Directory.CreateDirectory(Cache);
        var root = new FreshDebianRoot(Path.Combine(Cache, $"setup-root-{Guid.NewGuid():N}"), sdk) { Built = built };
        try
        {
            Directory.CreateDirectory(root.Location);
            Tool.Run(TimeSpan.FromMinutes(2), "tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls", "--zstd", "-C", root.Location, "-xpf", CachedTarball);
            root.LendHostConfiguration();
            root.Install(repositoryRoot);
            root.Prepared = clock.Elapsed;
            return root;
        }
        catch
        {
            root.Dispose();
            throw;
        }
    }

    /// <summary>Runs COMMAND in the root as root (private mount and PID namespaces); returns its exit code and output.</summary>
    public (int Code, string Output) Run(TimeSpan limit, params string[] command) =>
        Tool.TryRun(limit, Tool.Require("unshare", "util-linux"),
            ["--mount", "--pid", "--fork", "--kill-child", "--propagation", "private", "--",
             "/bin/sh", "-c", NamespaceScript, "fresh-root", Location, _sdk, _output, .. command]);

    /// <summary>The mount points under the root as the host sees them (none, outside <see cref="Run"/>).</summary>
    public IReadOnlyList<string> HostMountsUnder()
    {
        var prefix = Location + "/";
        return [.. File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4])
            .Where(point => point == Location || point.StartsWith(prefix, StringComparison.Ordinal))];
    }

    /// <summary>Removes the root, never through a mount: a mount left under it fails instead.</summary>
    public void Dispose()
    {
        if (!Directory.Exists(Location))
        {
            return;
        }

        var mounts = HostMountsUnder();
        if (mounts.Count > 0)
        {
            throw new InvalidOperationException($"{Location} still has mounts, not removed: {string.Join(", ", mounts)}");
        }

        Tool.Run(TimeSpan.FromMinutes(2), "rm", "-rf", "--one-file-system", Location);
    }

    /// <summary>Debootstraps bookworm minbase once into the cache (written under a temporary name, then renamed, so
    /// a run that stops halfway leaves nothing that looks complete). True when it had to.</summary>
    private static bool EnsureCachedTarball()
    {
        lock (Gate)
        {
            if (File.Exists(CachedTarball))
            {
                return false;
            }

            var debootstrap = Tool.Require("debootstrap", "debootstrap");
            Directory.CreateDirectory(Cache);
            var work = Path.Combine(Cache, $"setup-debootstrap-{Guid.NewGuid():N}");
            var partial = CachedTarball + $".{Guid.NewGuid():N}.partial";
            try
            {
                // In a private mount namespace: debootstrap's /proc and /sys mounts cannot outlive it. Its output is
                // captured (said only when it fails).
                Tool.Run(TimeSpan.FromMinutes(10), Tool.Require("unshare", "util-linux"), "--mount", "--propagation", "private", "--",
                    debootstrap, "--variant=minbase", "--include=" + string.Join(',', SdkDependencies), "--arch=" + Debootstrap.HostArchitecture(),
                    "bookworm", work, Debootstrap.DefaultMirror);
                Tool.Run(TimeSpan.FromMinutes(5), "tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls", "--zstd", "-C", work, "-cf", partial, ".");
                File.Move(partial, CachedTarball, overwrite: true);
                return true;
            }
            finally
            {
                File.Delete(partial);
                if (Directory.Exists(work))
                {
                    Tool.Run(TimeSpan.FromMinutes(2), "rm", "-rf", "--one-file-system", work);
                }
            }
        }
    }

    /// <summary>The directory of the SDK this test runs with: the real path of the dotnet executable on PATH
    /// (/usr/bin/dotnet is a link into it).</summary>
    private static string SdkDirectory()
    {
        var dotnet = Tool.Require("dotnet", "dotnet-sdk");
        var real = File.ResolveLinkTarget(dotnet, returnFinalTarget: true)?.FullName ?? dotnet;
        return Path.GetDirectoryName(real)!;
    }

    /// <summary>The host's apt sources, settings and keys (its mirror or proxy), and its name resolution (a mirror
    /// may be named in /etc/hosts). The root's own sources.list goes: the host's sources replace it.</summary>
    private void LendHostConfiguration()
    {
        File.Delete(Inside("/etc/apt/sources.list"));
        foreach (var file in new[] { "/etc/apt/sources.list", "/etc/apt/trusted.gpg", "/etc/resolv.conf", "/etc/hosts" })
        {
            if (File.Exists(file))
            {
                File.Copy(file, Inside(file), overwrite: true);
            }
        }

        foreach (var directory in new[] { "/etc/apt/sources.list.d", "/etc/apt/apt.conf.d", "/etc/apt/trusted.gpg.d", "/etc/apt/keyrings", "/etc/apt/preferences.d" })
        {
            if (Directory.Exists(directory))
            {
                Directory.CreateDirectory(Inside(directory));
                Tool.Run("cp", "-rL", "--preserve=mode,timestamps", directory + "/.", Inside(directory));
            }
        }
    }

    /// <summary>The SDK's mount point and the /usr/bin/dotnet link a package would make; this checkout's ./sidus,
    /// ./test and tools/.</summary>
    private void Install(string repositoryRoot)
    {
        Directory.CreateDirectory(Inside(_sdk));
        Directory.CreateDirectory(Inside(SidusPath));
        File.CreateSymbolicLink(Inside("/usr/bin/dotnet"), Path.Combine(_sdk, "dotnet"));
        Tool.Run("cp", "-r", "--preserve=mode", Path.Combine(repositoryRoot, "tools"), Path.Combine(repositoryRoot, "sidus"),
            Path.Combine(repositoryRoot, "test"), Inside(CheckoutPath));
    }

    /// <summary>The host path of PATH inside the root.</summary>
    public string Inside(string path) => Location + path;
}
