using Sidus.Testing;

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

        Busybox.CopyInto(root, ["sh", "true", "touch", "test"]);
    }
}
