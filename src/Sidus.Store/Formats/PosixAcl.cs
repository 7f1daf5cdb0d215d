namespace Sidus.Store.Formats;

/// <summary>
/// POSIX ACLs as the kernel stores them in system.posix_acl_access / system.posix_acl_default (a version word, then
/// (tag, permissions, id) entries, little-endian) and as tar writes them in SCHILY.acl.* (acl_to_text lines).
/// </summary>
public static class PosixAcl
{
    public static ReadOnlySpan<byte> AccessXattr => "system.posix_acl_access"u8;
    public static ReadOnlySpan<byte> DefaultXattr => "system.posix_acl_default"u8;

    private const uint Version = 2;
    private const int HeaderLength = 4;
    private const int EntryLength = 8;
    private const uint UndefinedId = uint.MaxValue;

    private const ushort UserObj = 0x01;
    private const ushort User = 0x02;
    private const ushort GroupObj = 0x04;
    private const ushort Group = 0x08;
    private const ushort Mask = 0x10;
    private const ushort Other = 0x20;

    /// <summary>The xattr value for ACL text (one entry per line or comma-separated, numeric ids).</summary>
    /// <param name="isDefault">Default ACLs are kept even when minimal; a minimal access ACL is only the mode.</param>
    /// <returns>Null when the access ACL says no more than the permission bits.</returns>
    public static byte[]? FromText(ReadOnlySpan<byte> text, bool isDefault, string member)
    {
        var entries = new List<(ushort Tag, ushort Perm, uint Id)>();
        foreach (var raw in Encoding.ASCII.GetString(text).Split('\n', ','))
        {
            var line = raw;
            var hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                line = line[..hash];
            }

            line = line.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var parts = line.Split(':');
            if (parts.Length is < 2 or > 4)
            {
                throw Bad(member, line);
            }

            var tagText = parts[0];
            var qualifier = parts.Length >= 3 ? parts[1] : "";
            var perms = parts.Length >= 3 ? parts[2] : parts[1];
            var named = qualifier.Length > 0;
            ushort tag = tagText switch
            {
                "user" or "u" => named ? User : UserObj,
                "group" or "g" => named ? Group : GroupObj,
                "mask" or "m" when !named => Mask,
                "other" or "o" when !named => Other,
                _ => throw Bad(member, line),
            };
            var id = UndefinedId;
            if (named && !uint.TryParse(qualifier, NumberStyles.None, CultureInfo.InvariantCulture, out id))
            {
                // A trailing fourth field is the numeric id some tars append after a name.
                if (parts.Length != 4 || !uint.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out id))
                {
                    throw new TarFormatException(
                        $"member {member} has an ACL naming '{qualifier}'; sidus keeps numeric ids only. Create the archive " +
                        "with tar --xattrs --xattrs-include='*' (which also stores ACLs as raw xattrs) and import again");
                }
            }

            entries.Add((tag, ParsePermissions(perms, member, line), id));
        }

        if (entries.Count == 0)
        {
            return null;
        }

        if (!isDefault && entries.TrueForAll(e => e.Tag is UserObj or GroupObj or Other))
        {
            return null;
        }

        entries.Sort((a, b) => a.Tag != b.Tag ? a.Tag.CompareTo(b.Tag) : a.Id.CompareTo(b.Id));
        var value = new byte[HeaderLength + entries.Count * EntryLength];
        BinaryPrimitives.WriteUInt32LittleEndian(value, Version);
        for (var i = 0; i < entries.Count; i++)
        {
            var at = value.AsSpan(HeaderLength + i * EntryLength);
            BinaryPrimitives.WriteUInt16LittleEndian(at, entries[i].Tag);
            BinaryPrimitives.WriteUInt16LittleEndian(at[2..], entries[i].Perm);
            BinaryPrimitives.WriteUInt32LittleEndian(at[4..], entries[i].Id);
        }

        return value;
    }

    /// <summary>The text GNU tar writes for an ACL xattr value (numeric ids); null when the value is not an ACL.</summary>
    public static string? ToText(ReadOnlySpan<byte> value)
    {
        if (value.Length < HeaderLength || (value.Length - HeaderLength) % EntryLength != 0 ||
            BinaryPrimitives.ReadUInt32LittleEndian(value) != Version)
        {
            return null;
        }

        var text = new StringBuilder();
        for (var at = HeaderLength; at < value.Length; at += EntryLength)
        {
            var tag = BinaryPrimitives.ReadUInt16LittleEndian(value[at..]);
            var perm = BinaryPrimitives.ReadUInt16LittleEndian(value[(at + 2)..]);
            var id = BinaryPrimitives.ReadUInt32LittleEndian(value[(at + 4)..]);
            var prefix = tag switch
            {
                UserObj => "user::",
                User => string.Create(CultureInfo.InvariantCulture, $"user:{id}:"),
                GroupObj => "group::",
                Group => string.Create(CultureInfo.InvariantCulture, $"group:{id}:"),
                Mask => "mask::",
                Other => "other::",
                _ => null,
            };
            if (prefix is null)
            {
                return null;
            }

            text.Append(prefix)
                .Append((perm & 4) != 0 ? 'r' : '-')
                .Append((perm & 2) != 0 ? 'w' : '-')
                .Append((perm & 1) != 0 ? 'x' : '-')
                .Append('\n');
        }

        return text.ToString();
    }

    private static ushort ParsePermissions(string text, string member, string line)
    {
        ushort perm = 0;
        foreach (var c in text)
        {
            perm |= c switch
            {
                'r' => 4,
                'w' => 2,
                'x' => 1,
                '-' => 0,
                _ => throw Bad(member, line),
            };
        }

        return perm;
    }

    private static TarFormatException Bad(string member, string line) =>
        new($"member {member} has an ACL entry tar cannot mean: '{line}'");
}
