namespace Sidus.Store.Tests.Support;

/// <summary>
/// A small real root tree a chroot can run: the host's busybox with the libraries ldd names, /bin/sh and /bin/true
/// as its applets, and the directories `image exec` mounts over (/dev, /proc, /sys, /run) and lends a file to (/usr/sbin).
/// </summary>
public static class BusyboxRoot
{
    public static void Create(string root)
    {
        foreach (var dir in new[] { "bin", "dev", "proc", "sys", "run", "etc", "tmp", "usr/sbin" })
        {
            Directory.CreateDirectory(Path.Combine(root, dir));
        }

        File.Copy("/bin/busybox", Path.Combine(root, "bin/busybox"));
        foreach (var applet in new[] { "sh", "true", "touch", "test" })
        {
            File.CreateSymbolicLink(Path.Combine(root, "bin", applet), "busybox");
        }

        var (code, output, error) = Shell.Run("ldd", "/bin/busybox");
        Assert.True(code == 0, "ldd /bin/busybox: " + error);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".
            var path = line.Contains("=>", StringComparison.Ordinal) ? line.Split("=>")[1].Trim() : line;
            path = path.Split(' ')[0];
            if (!path.StartsWith('/'))
            {
                continue;
            }

            var target = Path.Combine(root, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(path, target);
        }
    }
}
