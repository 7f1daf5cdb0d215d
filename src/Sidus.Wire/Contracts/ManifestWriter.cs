namespace Sidus.Wire.Contracts;

/// <summary>Writes a manifest (<see cref="ManifestFormat"/>): the header, then one line per entry, each ending in '\n'.</summary>
public static class ManifestWriter
{
    /// <summary>Writes ENTRIES (the root first, a directory before what it holds) to OUTPUT; returns how many.</summary>
    public static long Write(Stream output, IEnumerable<ManifestEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        writer.WriteLine(ManifestFormat.Header);
        long count = 0;
        var line = new StringBuilder(256);
        foreach (var entry in entries)
        {
            line.Clear();
            AppendLine(line, entry);
            writer.WriteLine(line);
            count++;
        }

        return count;
    }

    /// <summary>One entry's line, without its '\n'.</summary>
    public static string Line(ManifestEntry entry)
    {
        var line = new StringBuilder(256);
        AppendLine(line, entry);
        return line.ToString();
    }

    private static void AppendLine(StringBuilder line, ManifestEntry entry)
    {
        var regular = entry.Kind == FileKind.Regular;
        line.Append(ManifestFormat.Letter(entry.Kind)).Append(' ')
            .Append(Convert.ToString(entry.Mode & 0xFFF, 8)).Append(' ')
            .Append(entry.Uid.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(entry.Gid.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(entry.MtimeSeconds.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(entry.MtimeNanoseconds.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(regular ? entry.Size.ToString(CultureInfo.InvariantCulture) : "0").Append(' ')
            .Append(regular && entry.Content is { } content ? Convert.ToHexStringLower(content) : ManifestFormat.None).Append(' ')
            .Append(entry.LinkGroup.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(entry.Major.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(entry.Minor.ToString(CultureInfo.InvariantCulture)).Append(' ');
        if (entry.Path.Length == 0)
        {
            line.Append(ManifestFormat.RootPath);
        }
        else
        {
            ManifestFormat.AppendEncoded(line, entry.Path);
        }

        line.Append(' ');
        if (entry.Kind == FileKind.Symlink && entry.Target is { } target)
        {
            ManifestFormat.AppendEncoded(line, target);
        }
        else if (regular && entry.Extents is { } extents)
        {
            line.AppendJoin(',', extents.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Offset}:{e.Length}")));
        }
        else
        {
            line.Append(ManifestFormat.None);
        }

        line.Append(' ');
        AppendXattrs(line, entry.Xattrs);
    }

    private static void AppendXattrs(StringBuilder line, IReadOnlyList<KeyValuePair<byte[], byte[]>> xattrs)
    {
        if (xattrs.Count == 0)
        {
            line.Append(ManifestFormat.None);
            return;
        }

        for (var i = 0; i < xattrs.Count; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }

            ManifestFormat.AppendEncoded(line, xattrs[i].Key, xattrName: true);
            line.Append('=').Append(Convert.ToHexStringLower(xattrs[i].Value));
        }
    }
}
