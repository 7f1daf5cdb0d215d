namespace Sidus.Linux;

/// <summary>
/// Whether a standard stream is connected to the systemd journal. systemd sets JOURNAL_STREAM to the
/// "DEVICE:INODE" of the stream it connected stdout/stderr to; a program that still writes to that very stream (not
/// redirected by a shell in between) may write journal-style lines with a "&lt;N&gt;" priority prefix.
/// </summary>
public static unsafe class JournalStream
{
    /// <summary>The variable systemd sets for a service whose output goes to the journal.</summary>
    public const string Variable = "JOURNAL_STREAM";

    /// <summary>True when file descriptor <paramref name="fd"/> is the stream JOURNAL_STREAM names.</summary>
    public static bool IsConnected(int fd)
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        return value is not null && TryParse(value, out var device, out var inode)
            && TryGetDeviceAndInode(fd, out var actualDevice, out var actualInode)
            && device == actualDevice && inode == actualInode;
    }

    /// <summary>Reads "DEVICE:INODE" (both decimal, as systemd writes them).</summary>
    public static bool TryParse(string value, out ulong device, out ulong inode)
    {
        ArgumentNullException.ThrowIfNull(value);
        inode = 0;
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        return ulong.TryParse(value.AsSpan(0, Math.Max(colon, 0)), NumberStyles.None, CultureInfo.InvariantCulture, out device) & colon > 0
            && ulong.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out inode);
    }

    /// <summary>fstat's st_dev (glibc's dev_t encoding of major and minor) and st_ino of an open descriptor.</summary>
    public static bool TryGetDeviceAndInode(int fd, out ulong device, out ulong inode)
    {
        byte empty = 0;
        if (Libc.statx(fd, &empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, out var sx) != 0)
        {
            device = 0;
            inode = 0;
            return false;
        }

        device = MakeDevice(sx.DevMajor, sx.DevMinor);
        inode = sx.Ino;
        return true;
    }

    /// <summary>gnu_dev_makedev: the 64-bit dev_t that stat(2) reports and systemd prints.</summary>
    public static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000u) << 32) | ((ulong)(major & 0xfffu) << 8) | ((ulong)(minor & 0xffffff00u) << 12) | (minor & 0xffu);
}
