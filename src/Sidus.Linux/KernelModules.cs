namespace Sidus.Linux;

/// <summary>finit_module(2): loads a kernel module from an open file, as modprobe does without its database.</summary>
public static unsafe class KernelModules
{
    /// <summary>MODULE_INIT_COMPRESSED_FILE: the kernel decompresses a .ko.xz/.ko.zst itself (Linux 5.17+).</summary>
    public const int CompressedFile = 4;
    public const int EEXIST = 17;

    /// <summary>Loads the module in PATH; true when loaded, false when the kernel already has it.</summary>
    public static bool Load(string path, string parameters = "")
    {
        var compressed = path.EndsWith(".xz", StringComparison.Ordinal) || path.EndsWith(".zst", StringComparison.Ordinal) ||
                         path.EndsWith(".gz", StringComparison.Ordinal);
        using var file = File.OpenHandle(path);
        var number = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? Libc.SYS_finit_module_arm64 : Libc.SYS_finit_module_x64;
        var args = Mounts.Bytes(parameters);
        fixed (byte* ap = args)
        {
            var rc = Libc.syscall(number, file.DangerousGetHandle(), (long)ap, compressed ? CompressedFile : 0);
            if (rc == 0)
            {
                return true;
            }

            if (Marshal.GetLastPInvokeError() == EEXIST)
            {
                return false;
            }

            throw LinuxException.FromLastError("finit_module", path);
        }
    }
}
