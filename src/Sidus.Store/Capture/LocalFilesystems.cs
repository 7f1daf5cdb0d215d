namespace Sidus.Store.Capture;

/// <summary>
/// Which mounted filesystems a capture walks into: the disk filesystems of the system (ext4, xfs, btrfs...), never
/// kernel interfaces (/proc, /sys), memory (tmpfs, /run), network (NFS, CIFS, Lustre) or FUSE mounts. Told by the
/// device number each mount has in /proc/self/mountinfo, which is what stat reports for files on it.
/// </summary>
public sealed class LocalFilesystems
{
    /// <summary>Filesystems that live on a local block device and hold a system's files.</summary>
    public static readonly IReadOnlySet<string> DiskTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "jfs", "reiserfs", "zfs", "vfat", "exfat", "bcachefs",
    };

    private readonly Dictionary<ulong, string> _types;

    private LocalFilesystems(Dictionary<ulong, string> types) => _types = types;

    /// <summary>The mounts of this system; without /proc (a bare chroot) only the root's own filesystem is walked.</summary>
    public static LocalFilesystems Read(TextWriter log)
    {
        try
        {
            return Parse(File.ReadAllText("/proc/self/mountinfo"));
        }
        catch (IOException)
        {
            log.WriteLine("sidus-walk: no /proc/self/mountinfo: only the root's own filesystem is captured");
            return new LocalFilesystems([]);
        }
    }

    public static LocalFilesystems Parse(string mountinfo)
    {
        var types = new Dictionary<ulong, string>();
        foreach (var line in mountinfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 5 || separator + 1 >= fields.Length)
            {
                continue;
            }

            var numbers = fields[2].Split(':');
            if (numbers.Length == 2 && uint.TryParse(numbers[0], out var major) && uint.TryParse(numbers[1], out var minor))
            {
                types[FileStatus.DeviceNumber(major, minor)] = fields[separator + 1];
            }
        }

        return new LocalFilesystems(types);
    }

    /// <summary>Whether a directory on DEVICE, met under a directory on PARENT (another device), is walked into.</summary>
    public bool Holds(ulong device, ulong parent)
    {
        if (_types.TryGetValue(device, out var type))
        {
            return DiskTypes.Contains(type);
        }

        // A btrfs subvolume that is not mounted of its own has a device number of its own: it is the same disk.
        return _types.TryGetValue(parent, out var parentType) && parentType == "btrfs";
    }
}
