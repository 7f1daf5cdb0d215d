namespace Sidus.Nodes.Bulk;

/// <summary>
/// Builds many nodes at once (SystemImager's addclients): names from a range, MACs one per line from a file,
/// addresses counting up from a first one. All checks happen before anything is stored.
/// </summary>
public static class BulkNodes
{
    /// <summary>
    /// Reads MACs one per line; blank lines and lines starting with '#' are skipped, and anything after the MAC on
    /// a line (a comment, a port name) is ignored.
    /// </summary>
    public static IReadOnlyList<MacAddress> ReadMacs(TextReader reader, string source)
    {
        var macs = new List<MacAddress>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var text = line.Trim();
            if (text.Length == 0 || text[0] == '#')
            {
                continue;
            }

            var first = text.Split([' ', '\t', ','], 2)[0];
            if (!MacAddress.TryParse(first, out var mac))
            {
                Throw.Invalid($"{source}:{lineNumber}: '{first}' is not a MAC address");
            }

            macs.Add(mac);
        }

        return macs;
    }

    /// <summary>
    /// The nodes for <paramref name="names"/>: the i-th gets the i-th MAC and <paramref name="firstIp"/> + i.
    /// The MAC count must match the name count.
    /// </summary>
    public static IReadOnlyList<Node> Build(
        IReadOnlyList<string> names, IReadOnlyList<MacAddress> macs, IPAddress? firstIp, IReadOnlyList<string> groups, NodeSettings settings)
    {
        if (macs.Count != names.Count)
        {
            Throw.Invalid($"the range has {names.Count} names but the MAC file has {macs.Count} MACs: they must match one to one");
        }

        var duplicate = macs.GroupBy(m => m).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            Throw.Invalid($"MAC {duplicate.Key} appears more than once in the MAC file");
        }

        var nodes = new List<Node>(names.Count);
        for (var i = 0; i < names.Count; i++)
        {
            nodes.Add(new Node
            {
                Name = names[i],
                Macs = [macs[i]],
                Ip = firstIp is null ? null : Offset(firstIp, i),
                Groups = [.. groups],
                Settings = settings,
            }.Validated());
        }

        return nodes;
    }

    /// <summary><paramref name="start"/> + <paramref name="offset"/>; refuses to wrap past 255.255.255.255.</summary>
    public static IPAddress Offset(IPAddress start, int offset)
    {
        Span<byte> b = stackalloc byte[4];
        Names.Ipv4(start).TryWriteBytes(b, out _);
        var value = (ulong)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b) + (ulong)offset;
        if (value > uint.MaxValue)
        {
            return Throw.Invalid<IPAddress>($"addresses counted from {start} run past 255.255.255.255");
        }

        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b, (uint)value);
        return new IPAddress(b);
    }
}
