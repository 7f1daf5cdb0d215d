namespace Sidus.Store.Build;

/// <summary>
/// Runs a command inside a root tree the way an administrator's `chroot DIR cmd` would, but safely: in private
/// mount and PID namespaces (unshare), so /proc, /sys, /dev and /run mounts vanish with the command — on success,
/// failure, Ctrl-C or kill — and no daemon it started outlives it. Services are kept from starting
/// (policy-rc.d exit 101), and the host's resolv.conf is lent for the duration so apt can reach its mirror.
/// </summary>
public static class ChrootRunner
{
    private const string PolicyPath = "usr/sbin/policy-rc.d";
    private const string Policy = "#!/bin/sh\n# sidus image exec: no service starts inside an image being built\nexit 101\n";

    // $1 = root, $2 = policy file to lend, rest = the command.
    private const string Script = """
        set -e
        root="$1"; policy="$2"; shift 2
        mount --rbind /dev "$root/dev"
        mount --make-rslave "$root/dev"
        mount -t proc proc "$root/proc"
        mount -t sysfs -o ro sysfs "$root/sys"
        mount -t tmpfs -o mode=0755 tmpfs "$root/run"
        if [ -f "$root/usr/sbin/policy-rc.d" ]; then mount --bind "$policy" "$root/usr/sbin/policy-rc.d"; fi
        if [ -f /etc/resolv.conf ] && [ -f "$root/etc/resolv.conf" ] && [ ! -L "$root/etc/resolv.conf" ]; then
          mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
        fi
        exec chroot "$root" "$@"
        """;

    public static async Task<int> RunAsync(string root, IReadOnlyList<string> command, string stagingDirectory, CancellationToken cancellation)
    {
        var unshare = ExternalTool.Require("unshare", "util-linux");
        foreach (var dir in new[] { "dev", "proc", "sys", "run" })
        {
            if (!Directory.Exists(Path.Combine(root, dir)))
            {
                throw new StoreException($"the image has no /{dir} directory: is it a complete root tree?", StoreErrorKind.Usage);
            }
        }

        var policyFile = Path.Combine(stagingDirectory, $"policy-rc.d-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(policyFile, Policy, CancellationToken.None);
        File.SetUnixFileMode(policyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                         UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var lentPolicy = Path.Combine(root, PolicyPath);
        LentFile? lent = null;
        if (!File.Exists(lentPolicy) && Directory.Exists(Path.GetDirectoryName(lentPolicy)) && !IsSymlink(lentPolicy))
        {
            lent = LentFile.Put(policyFile, lentPolicy);
        }

        try
        {
            string[] arguments =
            [
                "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private", "--",
                "/bin/sh", "-c", Script, "sidus-chroot", root, policyFile, .. command,
            ];
            var environment = new Dictionary<string, string>
            {
                ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                ["DEBIAN_FRONTEND"] = Environment.GetEnvironmentVariable("DEBIAN_FRONTEND") ?? "noninteractive",
            };
            return await ExternalTool.RunAsync(unshare, arguments, cancellation, environment);
        }
        finally
        {
            lent?.Take();

            File.Delete(policyFile);
        }
    }

    private static bool IsSymlink(string path) => new FileInfo(path).LinkTarget is not null;

    /// <summary>
    /// A file lent to the tree for the command's run. Adding and removing it moves its directory's mtime, which a
    /// version records: taking it back restores that mtime unless the command changed the directory meanwhile, so a
    /// command that changes nothing makes no new version (docs/images.md) and a real change still shows.
    /// </summary>
    private sealed class LentFile
    {
        private readonly string _path;
        private readonly FileStatus _before;
        private readonly FileStatus _lent;

        private LentFile(string path, FileStatus before, FileStatus lent)
        {
            _path = path;
            _before = before;
            _lent = lent;
        }

        public static LentFile Put(string source, string path)
        {
            var before = DirectoryStatus(path);
            File.Copy(source, path);
            return new LentFile(path, before, DirectoryStatus(path));
        }

        public void Take()
        {
            var now = DirectoryStatus(_path);
            File.Delete(_path);
            if (now.MtimeSeconds == _lent.MtimeSeconds && now.MtimeNanoseconds == _lent.MtimeNanoseconds)
            {
                using var directory = Linux.DirectoryHandle.Open(Path.GetDirectoryName(_path)!);
                directory.SetModificationTime([], _before.MtimeSeconds, _before.MtimeNanoseconds);
            }
        }

        private static FileStatus DirectoryStatus(string path)
        {
            using var directory = Linux.DirectoryHandle.Open(Path.GetDirectoryName(path)!);
            return directory.Stat([]);
        }
    }
}
