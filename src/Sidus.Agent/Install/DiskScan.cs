using Sidus.Agent.Boot;

namespace Sidus.Agent.Install;

/// <summary>
/// The machine's disks as sysfs shows them: the initramfs runs no udev, so the stable names the layout may match
/// (serial, WWN, by-path) are read from /sys/block/NAME and its device's path, never built from /dev/sdX strings.
/// Partitions likewise come from sysfs (their number, start and size), so an NVMe disk's "p1" is never guessed.
/// </summary>
internal static class DiskScan
{
    private const string Block = "/sys/block";

    /// <summary>Kernel names that are never an install target: loop, RAM, NBD (the image itself), md/dm, optical, zram.</summary>
    private static readonly string[] NotDisks = ["loop", "ram", "nbd", "md", "dm-", "sr", "zram", "fd"];

    public static List<DiskFacts> Find()
    {
        var disks = new List<DiskFacts>();
        if (!Directory.Exists(Block))
        {
            return disks;
        }

        foreach (var path in Directory.EnumerateFileSystemEntries(Block).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (NotDisks.Any(p => name.StartsWith(p, StringComparison.Ordinal)) || Read(path, "size") is not { } sectors || sectors == "0")
            {
                continue;
            }

            var bytes = long.Parse(sectors, CultureInfo.InvariantCulture) * 512;
            var start = ReadStart("/dev/" + name, DiskSignature.ProbeLength);
            disks.Add(new DiskFacts(
                name, bytes, Read(path, "removable") == "1",
                Read(path, "serial") ?? Read(path, "device/serial"),
                Read(path, "wwid") ?? Read(path, "device/wwid") ?? Read(path, "device/wwn"),
                ByPath(path), Read(path, "device/model"),
                start is null ? "none" : DiskSignature.TableType(start),
                Partitions(path, name)));
        }

        return disks;
    }

    /// <summary>The partitions sysfs lists under the disk NAME: number, start and size in bytes, the filesystem found.</summary>
    public static List<ExistingPartition> Partitions(string diskPath, string name)
    {
        var found = new List<ExistingPartition>();
        foreach (var part in Directory.EnumerateDirectories(diskPath).Where(d => File.Exists(Path.Combine(d, "partition"))))
        {
            var number = int.Parse(Read(part, "partition")!, CultureInfo.InvariantCulture);
            var start = long.Parse(Read(part, "start")!, CultureInfo.InvariantCulture) * 512;
            var size = long.Parse(Read(part, "size")!, CultureInfo.InvariantCulture) * 512;
            var head = ReadStart("/dev/" + Path.GetFileName(part), DiskSignature.ProbeLength);
            found.Add(new ExistingPartition(number, start, size, head is null ? string.Empty : DiskSignature.FilesystemType(head)));
        }

        return [.. found.OrderBy(p => p.Number)];
    }

    /// <summary>The device name of partition NUMBER of DISK as the kernel named it (vda1, nvme0n1p1), or null.</summary>
    public static string? PartitionDevice(string disk, int number)
    {
        var dir = Path.Combine(Block, disk);
        return Directory.Exists(dir)
            ? Directory.EnumerateDirectories(dir).FirstOrDefault(d => Read(d, "partition") == number.ToString(CultureInfo.InvariantCulture)) is { } part
                ? Path.GetFileName(part)
                : null
            : null;
    }

    /// <summary>The disk and number of the partition device NAME (vdb2, nvme0n1p2) from sysfs; null for a whole disk or another device.</summary>
    public static (string Disk, int Number)? PartitionOf(string name)
    {
        var path = Path.Combine("/sys/class/block", name);
        if (Read(path, "partition") is not { } number || !int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return null;
        }

        try
        {
            // /sys/class/block/vdb2 links to .../block/vdb/vdb2: the disk is the directory above.
            var real = new DirectoryInfo(path).ResolveLinkTarget(true)?.FullName ?? path;
            return (Path.GetFileName(Path.GetDirectoryName(real)!), n);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// udev's by-path name: the device's sysfs path from the PCI function on, as path_id writes it (pci-0000:00:04.0
    /// for virtio-blk and NVMe; with -ata-N or -scsi-H:C:T:L after it for disks behind a controller).
    /// </summary>
    private static string? ByPath(string diskPath)
    {
        string real;
        try
        {
            real = Path.GetFullPath(new FileInfo(Path.Combine(diskPath, "device")).ResolveLinkTarget(true)?.FullName ?? string.Empty);
        }
        catch (IOException)
        {
            return null;
        }

        var parts = real.Split('/');
        var pci = parts.LastOrDefault(p => p.Length == 12 && p[4] == ':' && p[7] == ':' && p[10] == '.');
        if (pci is null)
        {
            return null;
        }

        var scsi = parts.LastOrDefault(p => p.Count(c => c == ':') == 3 && p.Split(':').All(n => n.Length > 0 && n.All(char.IsAsciiDigit)));
        var ata = parts.FirstOrDefault(p => p.StartsWith("ata", StringComparison.Ordinal) && p[3..].All(char.IsAsciiDigit) && p.Length > 3);
        return "pci-" + pci + (ata is not null && scsi is not null ? $"-ata-{ata[3..]}" : scsi is not null ? $"-scsi-{scsi}" : string.Empty);
    }

    private static string? Read(string dir, string file)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(dir, file)).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static byte[]? ReadStart(string device, int length)
    {
        try
        {
            using var f = new FileStream(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            var buffer = new byte[length];
            var read = f.ReadAtLeast(buffer, length, throwOnEndOfStream: false);
            return buffer[..read];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
