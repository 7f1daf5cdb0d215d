namespace Sidus.Wire.Contracts;

/// <summary>
/// The flat manifest a node fetches to lay a version out (ram mode). Text, one line per entry, a directory before
/// what it holds, so a small agent parses it with no store code:
/// <code>
/// sidus-manifest 2
/// KIND MODE UID GID MTIME_S MTIME_NS SIZE CONTENT LINKGROUP MAJOR MINOR PATH TARGET XATTRS
/// </code>
/// KIND is d (directory), f (regular file), l (symlink), c/b (char/block device), p (fifo); sockets are left out.
/// MODE is the permission bits in octal (07777). CONTENT is the file's content id in hex (the SHA-256 of its data,
/// fetched from <see cref="ContentRoutes.Content"/>) or '-'. LINKGROUP is non-zero for files that share an inode: the
/// first line of a group carries the data, the others become hard links to it. PATH is relative ('.' for the root)
/// and TARGET is the link text of a symlink, "OFFSET:LENGTH,..." for a sparse file (where its data lies: the content
/// is those extents' bytes; empty for a file that is all holes), or '-'; paths and link texts are percent-encoded: every byte outside '!'..'~' and '%'
/// itself is written as %XX, so names are bytes, as Linux has them. XATTRS is '-' or the entry's extended attributes
/// (file capabilities, ACLs, SELinux labels) as NAME=VALUE pairs joined by ',': NAME percent-encoded (',' and '='
/// too), VALUE in hex. <see cref="ManifestWriter"/> writes it, <see cref="ManifestReader"/> reads it.
/// </summary>
public static class ManifestFormat
{
    public const string Header = "sidus-manifest 2";
    public const int FieldCount = 14;

    /// <summary>What a missing value is written as (no content, no target, no xattrs).</summary>
    public const string None = "-";

    /// <summary>How the root's path is written.</summary>
    public const string RootPath = ".";

    public static char Letter(FileKind kind) => kind switch
    {
        FileKind.Directory => 'd',
        FileKind.Regular => 'f',
        FileKind.Symlink => 'l',
        FileKind.CharDevice => 'c',
        FileKind.BlockDevice => 'b',
        FileKind.Fifo => 'p',
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no manifest letter"),
    };

    public static bool TryKind(char letter, out FileKind kind)
    {
        kind = letter switch
        {
            'd' => FileKind.Directory,
            'f' => FileKind.Regular,
            'l' => FileKind.Symlink,
            'c' => FileKind.CharDevice,
            'b' => FileKind.BlockDevice,
            'p' => FileKind.Fifo,
            _ => FileKind.Socket,
        };
        return kind != FileKind.Socket;
    }

    /// <summary>Percent-encodes bytes outside '!'..'~' and '%' itself (and ',' '=' when <paramref name="xattrName"/>).</summary>
    public static void AppendEncoded(StringBuilder text, ReadOnlySpan<byte> bytes, bool xattrName = false)
    {
        ArgumentNullException.ThrowIfNull(text);
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

    /// <summary>Undoes <see cref="AppendEncoded"/>; a truncated or non-hex escape, or a byte that should have been
    /// escaped, is a <see cref="FormatException"/>.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> text)
    {
        var outside = text.IndexOfAnyExceptInRange((byte)'!', (byte)'~');
        if (outside >= 0)
        {
            throw new FormatException($"byte 0x{text[outside]:X2} must be %-escaped");
        }

        if (!text.Contains((byte)'%'))
        {
            return text.ToArray();
        }

        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '%')
            {
                bytes.Add(text[i]);
                continue;
            }

            if (i + 2 >= text.Length)
            {
                throw new FormatException("truncated %XX escape");
            }

            if (!byte.TryParse(text.Slice(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                throw new FormatException($"'%{Encoding.ASCII.GetString(text.Slice(i + 1, 2))}' is not a %XX escape");
            }

            bytes.Add(b);
            i += 2;
        }

        return [.. bytes];
    }
}
