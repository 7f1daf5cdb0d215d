namespace Sidus.Linux;

/// <summary>Loop devices (include/uapi/linux/loop.h): a file seen as a block device, as losetup makes them.</summary>
public static class LoopDevice
{
    public const string ControlPath = "/dev/loop-control";
    private const ulong LOOP_SET_FD = 0x4C00;
    private const ulong LOOP_CLR_FD = 0x4C01;
    private const ulong LOOP_CTL_GET_FREE = 0x4C82;
    private const int Attempts = 5;

    /// <summary>
    /// Attaches BACKING to a free loop device and returns its path. The device is read-only when BACKING is open
    /// read-only. Another program may take the free device first (EBUSY): then the next free one is tried.
    /// </summary>
    public static string Attach(SafeFileHandle backing)
    {
        for (var attempt = 1; ; attempt++)
        {
            int index;
            using (var control = File.OpenHandle(ControlPath, FileMode.Open, FileAccess.ReadWrite))
            {
                index = Libc.ioctl((int)control.DangerousGetHandle(), LOOP_CTL_GET_FREE, 0);
                if (index < 0)
                {
                    throw LinuxException.FromLastError("LOOP_CTL_GET_FREE", ControlPath);
                }
            }

            var path = "/dev/loop" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using var device = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            if (Libc.ioctl((int)device.DangerousGetHandle(), LOOP_SET_FD, backing.DangerousGetHandle()) == 0)
            {
                return path;
            }

            var error = LinuxException.FromLastError("LOOP_SET_FD", path);
            if (error.Errno != Errno.EBUSY || attempt == Attempts)
            {
                throw error;
            }
        }
    }

    /// <summary>Detaches the loop device at PATH from its file (LOOP_CLR_FD); the file is released once nothing else
    /// holds the device.</summary>
    public static void Detach(string path)
    {
        using var device = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        if (Libc.ioctl((int)device.DangerousGetHandle(), LOOP_CLR_FD, 0) != 0)
        {
            throw LinuxException.FromLastError("LOOP_CLR_FD", path);
        }
    }
}
