using System.Globalization;
using System.Text;
using Sidus.Linux;
using Sidus.Store.Trees;

namespace Sidus.Store.Serving;

/// <summary>
/// The flat manifest a node fetches to lay a version out (ram mode). Text, one line per entry, a directory before
/// what it holds, so a small agent parses it with no store code:
/// <code>
/// sidus-manifest 2
/// KIND MODE UID GID MTIME_S MTIME_NS SIZE CONTENT LINKGROUP MAJOR MINOR PATH TARGET XATTRS
/// </code>
/// KIND is d (directory), f (regular file), l (symlink), c/b (char/block device), p (fifo); sockets are left out.
/// MODE is the permission bits in octal (07777). CONTENT is the file's content id in hex (the SHA-256 of its data,
/// fetched from <see cref="ServingRoutes.Content"/>) or '-'. LINKGROUP is non-zero for files that share an inode: the
/// first line of a group carries the data, the others become hard links to it. PATH is relative ('.' for the root)
/// and TARGET is the link text of a symlink, "OFFSET:LENGTH,..." for a sparse file (where its data lies: the content
/// is those extents' bytes), or '-'; paths and link texts are percent-encoded: every byte outside '!'..'~' and '%'
/// itself is written as %XX, so names are bytes, as Linux has them. XATTRS is '-' or the entry's extended attributes
/// (file capabilities, ACLs, SELinux labels) as NAME=VALUE pairs joined by ',': NAME percent-encoded (',' and '='
/// too), VALUE in hex.
/// </summary>
public static class ManifestFormat
{
    public const string Header = "sidus-manifest 2";
    public const int FieldCount = 14;

    /// <summary>Writes the manifest of version COMMIT to OUTPUT; returns the number of entries.</summary>
    public static long Write(Repository repository, Commit commit, Stream output, CancellationToken cancellation)
    {
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        writer.WriteLine(Header);
        long entries = 0;
        var line = new StringBuilder(256);
        foreach (var (path, entry) in Export.VersionWalker.Walk(repository, commit, cancellation))
        {
            if (entry.Kind == FileKind.Socket)
            {
                continue;
            }

            line.Clear();
            line.Append(KindLetter(entry.Kind)).Append(' ')
                .Append(Convert.ToString(entry.Permissions & 0xFFF, 8)).Append(' ')
                .Append(entry.Uid.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(entry.Gid.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(entry.MtimeSeconds.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(entry.MtimeNanoseconds.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(entry.Kind == FileKind.Regular ? entry.Size.ToString(CultureInfo.InvariantCulture) : "0").Append(' ')
                .Append(entry.Kind == FileKind.Regular ? entry.Content.ToString() : "-").Append(' ')
                .Append(entry.LinkGroup.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(entry.RdevMajor.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(entry.RdevMinor.ToString(CultureInfo.InvariantCulture)).Append(' ');
            AppendEncoded(line, path.Length == 0 ? "."u8 : path);
            line.Append(' ');
            if (entry.Kind == FileKind.Symlink && entry.Target is { } target)
            {
                AppendEncoded(line, target);
            }
            else if (entry.Kind == FileKind.Regular && entry.Extents is { } extents)
            {
                line.AppendJoin(',', extents.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Offset}:{e.Length}")));
            }
            else
            {
                line.Append('-');
            }

            line.Append(' ');
            AppendXattrs(line, entry.Xattrs);
            writer.WriteLine(line);
            entries++;
        }

        return entries;
    }

    /// <summary>Percent-encodes bytes outside '!'..'~' and '%' itself (and ',' '=' when <paramref name="xattrName"/>).</summary>
    public static void AppendEncoded(StringBuilder text, ReadOnlySpan<byte> bytes, bool xattrName = false)
    {
        foreach (var b in bytes)
        {
            if (b is > (byte)' ' and < 0x7F and not (byte)'%' && !(xattrName && b is (byte)',' or (byte)'='))
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }

    private static void AppendXattrs(StringBuilder line, IReadOnlyList<KeyValuePair<byte[], byte[]>> xattrs)
    {
        if (xattrs.Count == 0)
        {
            line.Append('-');
            return;
        }

        for (var i = 0; i < xattrs.Count; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }

            AppendEncoded(line, xattrs[i].Key, xattrName: true);
            line.Append('=').Append(Convert.ToHexStringLower(xattrs[i].Value));
        }
    }

    private static char KindLetter(FileKind kind) => kind switch
    {
        FileKind.Directory => 'd',
        FileKind.Regular => 'f',
        FileKind.Symlink => 'l',
        FileKind.CharDevice => 'c',
        FileKind.BlockDevice => 'b',
        FileKind.Fifo => 'p',
        _ => throw new InvalidOperationException($"{kind} has no manifest letter"),
    };
}
