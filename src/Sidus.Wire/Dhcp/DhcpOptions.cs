namespace Sidus.Wire.Dhcp;

/// <summary>The options of one message, in first-seen order, each code once with its complete value
/// (split instances already concatenated as RFC 3396 requires).</summary>
public sealed class DhcpOptions
{
    private readonly List<KeyValuePair<byte, byte[]>> _entries = [];

    public int Count => _entries.Count;

    public IEnumerable<KeyValuePair<byte, byte[]>> Entries => _entries;

    public bool Contains(DhcpOptionCode code) => IndexOf((byte)code) >= 0;

    public bool TryGet(DhcpOptionCode code, out ReadOnlySpan<byte> value) => TryGet((byte)code, out value);

    public bool TryGet(byte code, out ReadOnlySpan<byte> value)
    {
        var index = IndexOf(code);
        value = index >= 0 ? _entries[index].Value : default;
        return index >= 0;
    }

    /// <summary>Sets (replaces) a value; values longer than 255 bytes are split when encoded.</summary>
    public void Set(DhcpOptionCode code, ReadOnlySpan<byte> value) => Set((byte)code, value);

    public void Set(byte code, ReadOnlySpan<byte> value)
    {
        if (code is (byte)DhcpOptionCode.Pad or (byte)DhcpOptionCode.End)
            throw new ArgumentException("Pad and End are not options with values.", nameof(code));
        var index = IndexOf(code);
        var entry = new KeyValuePair<byte, byte[]>(code, value.ToArray());
        if (index >= 0)
            _entries[index] = entry;
        else
            _entries.Add(entry);
    }

    public void SetByte(DhcpOptionCode code, byte value) => Set(code, [value]);

    public void SetUInt32(DhcpOptionCode code, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        Set(code, bytes);
    }

    public void SetAddress(DhcpOptionCode code, Ip4 address) => SetUInt32(code, address.Value);

    public void SetAddresses(DhcpOptionCode code, IReadOnlyList<Ip4> addresses)
    {
        var bytes = new byte[addresses.Count * Ip4.Size];
        for (var i = 0; i < addresses.Count; i++)
            addresses[i].Write(bytes.AsSpan(i * Ip4.Size));
        Set(code, bytes);
    }

    public void SetString(DhcpOptionCode code, string value) => Set(code, Encoding.ASCII.GetBytes(value));

    public bool Remove(DhcpOptionCode code)
    {
        var index = IndexOf((byte)code);
        if (index < 0)
            return false;
        _entries.RemoveAt(index);
        return true;
    }

    public DhcpMessageType? MessageType =>
        TryGet(DhcpOptionCode.MessageType, out var v) && v.Length == 1 ? (DhcpMessageType)v[0] : null;

    public Ip4? GetAddress(DhcpOptionCode code) =>
        TryGet(code, out var v) && v.Length == Ip4.Size ? Ip4.Read(v) : null;

    public uint? GetUInt32(DhcpOptionCode code) =>
        TryGet(code, out var v) && v.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(v) : null;

    /// <summary>An option's value as printable ASCII (other bytes become '?'), for logging and prefix checks.</summary>
    public string? GetString(DhcpOptionCode code)
    {
        if (!TryGet(code, out var v))
            return null;
        return string.Create(v.Length, v.ToArray(), static (chars, bytes) =>
        {
            for (var i = 0; i < bytes.Length; i++)
                chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '?';
        });
    }

    /// <summary>Appends one decoded instance: a repeated code extends the earlier value (RFC 3396).</summary>
    internal void Append(byte code, ReadOnlySpan<byte> value)
    {
        var index = IndexOf(code);
        if (index < 0)
        {
            _entries.Add(new(code, value.ToArray()));
            return;
        }
        var old = _entries[index].Value;
        var joined = new byte[old.Length + value.Length];
        old.CopyTo(joined, 0);
        value.CopyTo(joined.AsSpan(old.Length));
        _entries[index] = new(code, joined);
    }

    /// <summary>Bytes needed to encode every option plus End.</summary>
    internal int EncodedLength
    {
        get
        {
            var length = 1;
            foreach (var (_, value) in _entries)
            {
                var chunks = Math.Max(1, (value.Length + DhcpConstants.MaxOptionChunk - 1) / DhcpConstants.MaxOptionChunk);
                length += value.Length + 2 * chunks;
            }
            return length;
        }
    }

    /// <summary>Writes the options (message type first, as some clients expect) and End; returns bytes written.</summary>
    internal int Encode(Span<byte> destination)
    {
        var position = 0;
        var typeIndex = IndexOf((byte)DhcpOptionCode.MessageType);
        if (typeIndex >= 0)
            position += EncodeOne(_entries[typeIndex], destination);
        for (var i = 0; i < _entries.Count; i++)
        {
            if (i != typeIndex)
                position += EncodeOne(_entries[i], destination[position..]);
        }
        destination[position++] = (byte)DhcpOptionCode.End;
        return position;
    }

    private static int EncodeOne(KeyValuePair<byte, byte[]> entry, Span<byte> destination)
    {
        var value = entry.Value.AsSpan();
        var position = 0;
        do
        {
            var chunk = Math.Min(value.Length, DhcpConstants.MaxOptionChunk);
            destination[position] = entry.Key;
            destination[position + 1] = (byte)chunk;
            value[..chunk].CopyTo(destination[(position + 2)..]);
            position += 2 + chunk;
            value = value[chunk..];
        }
        while (!value.IsEmpty);
        return position;
    }

    private int IndexOf(byte code)
    {
        for (var i = 0; i < _entries.Count; i++)
        {
            if (_entries[i].Key == code)
                return i;
        }
        return -1;
    }
}
