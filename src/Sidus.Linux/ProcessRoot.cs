namespace Sidus.Linux;

/// <summary>chdir, chroot and execv: the last steps of an init that hands over to another root.</summary>
public static unsafe class ProcessRoot
{
    public static void ChangeDirectory(string path)
    {
        var p = Mounts.Bytes(path);
        fixed (byte* pp = p)
        {
            if (Libc.chdir(pp) != 0)
            {
                throw LinuxException.FromLastError("chdir", path);
            }
        }
    }

    public static void ChangeRoot(string path)
    {
        var p = Mounts.Bytes(path);
        fixed (byte* pp = p)
        {
            if (Libc.chroot(pp) != 0)
            {
                throw LinuxException.FromLastError("chroot", path);
            }
        }
    }

    /// <summary>Replaces this process with PROGRAM; returns only by throwing when the exec failed.</summary>
    public static void Exec(string program, IReadOnlyList<string> arguments)
    {
        var strings = new byte[arguments.Count][];
        for (var i = 0; i < strings.Length; i++)
        {
            strings[i] = Mounts.Bytes(arguments[i]);
        }

        var handles = new System.Runtime.InteropServices.GCHandle[strings.Length];
        var argv = new nint[strings.Length + 1];
        try
        {
            for (var i = 0; i < strings.Length; i++)
            {
                handles[i] = System.Runtime.InteropServices.GCHandle.Alloc(strings[i], System.Runtime.InteropServices.GCHandleType.Pinned);
                argv[i] = handles[i].AddrOfPinnedObject();
            }

            var path = Mounts.Bytes(program);
            fixed (byte* pp = path)
            fixed (nint* av = argv)
            {
                Libc.execv(pp, (byte**)av);
            }

            throw LinuxException.FromLastError("exec", program);
        }
        finally
        {
            foreach (var handle in handles)
            {
                if (handle.IsAllocated)
                {
                    handle.Free();
                }
            }
        }
    }

    /// <summary>LINUX_REBOOT_CMD_RESTART: what reboot(2) does once every filesystem is written and unmounted.</summary>
    private const int RebootRestart = 0x01234567;

    /// <summary>Writes every filesystem's dirty data out: sync(2).</summary>
    public static void Sync() => Libc.sync();

    /// <summary>Writes every filesystem's dirty data out (sync(2)), then restarts the machine; returns only by throwing.</summary>
    public static void Reboot()
    {
        Libc.sync();
        if (Libc.reboot(RebootRestart) != 0)
        {
            throw LinuxException.FromLastError("reboot", "the machine");
        }
    }
}
