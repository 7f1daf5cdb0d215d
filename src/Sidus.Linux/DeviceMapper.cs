namespace Sidus.Linux;

/// <summary>One line of a device-mapper table: where it starts and how long it is (512-byte sectors), the target
/// type ("verity", "linear", ...) and the target's parameters.</summary>
public sealed record DmTarget(ulong StartSector, ulong Sectors, string Type, string Parameters);

/// <summary>
/// The device-mapper control interface (/dev/mapper/control, include/uapi/linux/dm-ioctl.h), as dmsetup uses it:
/// create a mapped device, load a table, suspend, resume (which puts a loaded table in place while the device stays
/// open and mounted), remove. Written here so an initramfs needs neither dmsetup nor libdevmapper.
/// </summary>
public static unsafe class DeviceMapper
{
    public const string ControlPath = "/dev/mapper/control";

    /// <summary>sizeof(struct dm_ioctl): every request starts with it and the kernel answers in it.</summary>
    public const int HeaderLength = 312;

    /// <summary>sizeof(struct dm_target_spec); the target's parameter string follows it.</summary>
    public const int TargetSpecLength = 40;

    public const uint DM_READONLY_FLAG = 1 << 0;
    public const uint DM_SUSPEND_FLAG = 1 << 1;
    public const int DM_DEV_CREATE = 3;
    public const int DM_DEV_REMOVE = 4;
    public const int DM_DEV_SUSPEND = 6;
    public const int DM_TABLE_LOAD = 9;

    private const uint VersionMajor = 4;
    private const int DataSizeOffset = 12;
    private const int DataStartOffset = 16;
    private const int TargetCountOffset = 20;
    private const int FlagsOffset = 28;
    private const int DevOffset = 40;
    private const int NameOffset = 48;
    private const int NameLength = 128;
    private const int TypeNameLength = 16;
    private const int MaxRequestLength = 4096;

    /// <summary>_IOWR(0xfd, COMMAND, struct dm_ioctl).</summary>
    public static ulong Request(int command) => (3UL << 30) | ((ulong)HeaderLength << 16) | (0xFDUL << 8) | (ulong)command;

    /// <summary>The header of a request for device NAME carrying DATALENGTH bytes after it; returns its length.</summary>
    public static int EncodeHeader(Span<byte> destination, string name, uint flags, int dataLength, uint targetCount)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name);
        if (nameBytes.Length is 0 or >= NameLength || name.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a device-mapper name (1 to {NameLength - 1} characters, no '/')", nameof(name));
        }

        var header = destination[..HeaderLength];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, VersionMajor);
        BinaryPrimitives.WriteUInt32LittleEndian(header[DataSizeOffset..], (uint)(HeaderLength + dataLength));
        BinaryPrimitives.WriteUInt32LittleEndian(header[DataStartOffset..], HeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[TargetCountOffset..], targetCount);
        BinaryPrimitives.WriteUInt32LittleEndian(header[FlagsOffset..], flags);
        nameBytes.CopyTo(header[NameOffset..]);
        return HeaderLength;
    }

    /// <summary>A DM_TABLE_LOAD request with one target; returns its length.</summary>
    public static int EncodeTableLoad(Span<byte> destination, string name, DmTarget target, bool readOnly)
    {
        var type = Encoding.ASCII.GetBytes(target.Type);
        if (type.Length is 0 or >= TypeNameLength)
        {
            throw new ArgumentException($"'{target.Type}' is not a target type", nameof(target));
        }

        var parameters = Encoding.ASCII.GetBytes(target.Parameters);
        // The parameter string ends with NUL and the spec is padded to 8 bytes (the next spec must be aligned).
        var specLength = (TargetSpecLength + parameters.Length + 1 + 7) & ~7;
        if (HeaderLength + specLength > destination.Length)
        {
            throw new ArgumentException($"the table of {name} is too long ({specLength} bytes)", nameof(target));
        }

        EncodeHeader(destination, name, readOnly ? DM_READONLY_FLAG : 0, specLength, 1);
        var spec = destination.Slice(HeaderLength, specLength);
        spec.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(spec, target.StartSector);
        BinaryPrimitives.WriteUInt64LittleEndian(spec[8..], target.Sectors);
        BinaryPrimitives.WriteUInt32LittleEndian(spec[20..], (uint)specLength);
        type.CopyTo(spec[24..]);
        parameters.CopyTo(spec[TargetSpecLength..]);
        return HeaderLength + specLength;
    }

    /// <summary>The (major, minor) of the kernel's dev field (new_encode_dev).</summary>
    public static (uint Major, uint Minor) DecodeDevice(ReadOnlySpan<byte> answer)
    {
        var dev = BinaryPrimitives.ReadUInt64LittleEndian(answer[DevOffset..]);
        return ((uint)((dev & 0xfff00) >> 8), (uint)((dev & 0xff) | ((dev >> 12) & 0xfff00)));
    }

    /// <summary>Creates the empty mapped device NAME; returns its numbers (its node is /dev/dm-MINOR).</summary>
    public static (uint Major, uint Minor) Create(string name)
    {
        Span<byte> request = stackalloc byte[HeaderLength];
        EncodeHeader(request, name, 0, 0, 0);
        Call(DM_DEV_CREATE, request, "DM_DEV_CREATE " + name);
        return DecodeDevice(request);
    }

    /// <summary>Loads TARGET as NAME's inactive table: it takes effect at the next <see cref="Resume"/>.</summary>
    public static void Load(string name, DmTarget target, bool readOnly)
    {
        Span<byte> request = stackalloc byte[MaxRequestLength];
        var length = EncodeTableLoad(request, name, target, readOnly);
        Call(DM_TABLE_LOAD, request[..length], $"DM_TABLE_LOAD {name} ({target.Type} {target.Parameters})");
    }

    /// <summary>Holds NAME's I/O (what is in flight completes first) until <see cref="Resume"/>.</summary>
    public static void Suspend(string name) => Simple(DM_DEV_SUSPEND, name, DM_SUSPEND_FLAG, "suspend");

    /// <summary>Puts a loaded table in place (if any) and lets NAME's I/O go on.</summary>
    public static void Resume(string name) => Simple(DM_DEV_SUSPEND, name, 0, "resume");

    public static void Remove(string name) => Simple(DM_DEV_REMOVE, name, 0, "remove");

    private static void Simple(int command, string name, uint flags, string what)
    {
        Span<byte> request = stackalloc byte[HeaderLength];
        EncodeHeader(request, name, flags, 0, 0);
        Call(command, request, $"device-mapper {what} {name}");
    }

    private static void Call(int command, Span<byte> request, string operation)
    {
        using var control = File.OpenHandle(ControlPath, FileMode.Open, FileAccess.ReadWrite);
        fixed (byte* buffer = request)
        {
            if (Libc.ioctl((int)control.DangerousGetHandle(), Request(command), buffer) != 0)
            {
                throw LinuxException.FromLastError(operation);
            }
        }
    }
}
