using System.Security.Cryptography;
using System.Text;
using Sidus.Linux;

namespace Sidus.Store.Tests.Support;

/// <summary>
/// Describes a tree as text, one line per path with everything lstat and the xattr calls report (except inode
/// numbers and ctime): type, mode, owner, size, mtime in ns, device numbers, link target, xattrs, SHA-256 of the
/// content, data extents (holes), and hard link groups. Two trees are identical when their snapshots are.
/// </summary>
public static class TreeSnapshot
{
    public static string Of(string root)
    {
        var lines = new List<string>();
        var groups = new Dictionary<(ulong, ulong), int>();
        using var dir = DirectoryHandle.Open(root);
        Describe(dir, [], "/", dir.Stat([]), lines, groups, includeTime: true);
        Walk(dir, [], lines, groups);
        return string.Join('\n', lines);
    }

    private static void Walk(DirectoryHandle dir, byte[] prefix, List<string> lines, Dictionary<(ulong, ulong), int> groups)
    {
        var entries = dir.ReadEntries();
        entries.Sort((a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        foreach (var (name, _) in entries)
        {
            var path = DirectoryHandle.Join(prefix, name);
            var status = dir.Stat(name);
            Describe(dir, name, LinuxException.Printable(path), status, lines, groups, includeTime: true);
            if (status.Kind == FileKind.Directory)
            {
                using var child = dir.OpenChild(name);
                Walk(child, path, lines, groups);
            }
        }
    }

    private static void Describe(DirectoryHandle dir, byte[] name, string path, FileStatus s, List<string> lines,
        Dictionary<(ulong, ulong), int> groups, bool includeTime)
    {
        var sb = new StringBuilder();
        sb.Append(path).Append(' ').Append(s.Kind).Append(" mode=").Append(Convert.ToString(s.Permissions, 8))
            .Append(" owner=").Append(s.Uid).Append(':').Append(s.Gid);
        if (includeTime)
        {
            sb.Append(" mtime=").Append(s.MtimeSeconds).Append('.').Append(s.MtimeNanoseconds.ToString("D9"));
        }

        switch (s.Kind)
        {
            case FileKind.Regular:
                sb.Append(" size=").Append(s.Size);
                using (var file = dir.OpenRead(name))
                {
                    var extents = FileOps.DataExtents(file, s.Size);
                    sb.Append(" data=").Append(string.Join(',', extents.Select(e => $"{e.Offset}+{e.Length}")));
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    var buffer = new byte[1 << 20];
                    foreach (var (offset, length) in extents)
                    {
                        for (long at = 0; at < length;)
                        {
                            var n = RandomAccess.Read(file, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - at)), offset + at);
                            hash.AppendData(buffer, 0, n);
                            at += n;
                        }
                    }

                    sb.Append(" sha256=").Append(Convert.ToHexStringLower(hash.GetHashAndReset()));
                }

                break;
            case FileKind.Symlink:
                sb.Append(" -> ").Append(LinuxException.Printable(dir.ReadLink(name)));
                break;
            case FileKind.CharDevice:
            case FileKind.BlockDevice:
                sb.Append(" rdev=").Append(s.RdevMajor).Append(',').Append(s.RdevMinor);
                break;
        }

        if (s.Kind != FileKind.Directory && s.LinkCount > 1)
        {
            if (!groups.TryGetValue((s.Device, s.Inode), out var group))
            {
                group = groups.Count + 1;
                groups[(s.Device, s.Inode)] = group;
            }

            sb.Append(" link-group=").Append(group).Append(" nlink=").Append(s.LinkCount);
        }

        foreach (var (key, value) in dir.ReadXattrs(name))
        {
            sb.Append(" xattr:").Append(Encoding.UTF8.GetString(key)).Append('=').Append(Convert.ToHexStringLower(value));
        }

        lines.Add(sb.ToString());
    }
}
