namespace Sidus.Agent.Network;

/// <summary>
/// Writes one netlink request into a span: nlmsghdr, an optional generic netlink header, then attributes
/// (struct nlattr: length, type, value padded to 4 bytes), nested attributes included. Host byte order (little
/// endian on every architecture the agent is built for), as the kernel expects.
/// </summary>
internal ref struct NetlinkWriter
{
    public const int HeaderLength = 16;
    public const int GenericHeaderLength = 4;
    public const int AttributeHeaderLength = 4;
    public const ushort NLM_F_REQUEST = 0x1;
    public const ushort NLM_F_ACK = 0x4;
    public const ushort NLA_F_NESTED = 0x8000;

    private readonly Span<byte> _buffer;
    private int _at;

    public NetlinkWriter(Span<byte> buffer, ushort type, ushort flags, int sequence)
    {
        _buffer = buffer;
        _buffer[..HeaderLength].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[6..], flags);
        BinaryPrimitives.WriteInt32LittleEndian(_buffer[8..], sequence);
        _at = HeaderLength;
    }

    /// <summary>struct genlmsghdr: command, version, two reserved bytes.</summary>
    public void GenericHeader(byte command, byte version)
    {
        _buffer[_at] = command;
        _buffer[_at + 1] = version;
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[(_at + 2)..], 0);
        _at += GenericHeaderLength;
    }

    public void U32(ushort type, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Attribute(type, 4), value);
    }

    public void U64(ushort type, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Attribute(type, 8), value);
    }

    /// <summary>A NUL-terminated string attribute (NLA_NUL_STRING / NLA_STRING).</summary>
    public void String(ushort type, string value)
    {
        var value8 = Attribute(type, Encoding.UTF8.GetByteCount(value) + 1);
        value8[^1] = 0;
        Encoding.UTF8.GetBytes(value, value8);
    }

    /// <summary>Starts a nested attribute; its length is written by <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type)
    {
        var start = _at;
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[(_at + 2)..], (ushort)(type | NLA_F_NESTED));
        _at += AttributeHeaderLength;
        return start;
    }

    public readonly void EndNested(int start) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[start..], (ushort)(_at - start));

    /// <summary>Writes the total length into the header; returns it.</summary>
    public readonly int Finish()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_at);
        return _at;
    }

    private Span<byte> Attribute(ushort type, int length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[_at..], (ushort)(AttributeHeaderLength + length));
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[(_at + 2)..], type);
        var value = _buffer.Slice(_at + AttributeHeaderLength, length);
        var padded = Align(AttributeHeaderLength + length);
        _buffer.Slice(_at + AttributeHeaderLength + length, padded - AttributeHeaderLength - length).Clear();
        _at += padded;
        return value;
    }

    public static int Align(int length) => (length + 3) & ~3;
}

/// <summary>Reads netlink answers: messages out of a datagram, attributes out of a message. Nothing is trusted.</summary>
internal static class NetlinkReader
{
    /// <summary>The next message of a datagram; false at its end. A length that does not fit is invalid data.</summary>
    public static bool TryReadMessage(ReadOnlySpan<byte> datagram, out ushort type, out int sequence, out ReadOnlySpan<byte> payload, out int consumed)
    {
        type = 0;
        sequence = 0;
        payload = default;
        consumed = 0;
        if (datagram.Length < NetlinkWriter.HeaderLength)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(datagram);
        if (length < NetlinkWriter.HeaderLength || length > datagram.Length)
        {
            throw new InvalidDataException($"a netlink message claims {length} bytes of a {datagram.Length}-byte datagram");
        }

        type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
        sequence = BinaryPrimitives.ReadInt32LittleEndian(datagram[8..]);
        payload = datagram[NetlinkWriter.HeaderLength..(int)length];
        consumed = Math.Min(datagram.Length, NetlinkWriter.Align((int)length));
        return true;
    }

    /// <summary>The value of the first attribute of TYPE (flags masked off) in ATTRIBUTES.</summary>
    public static bool TryFindAttribute(ReadOnlySpan<byte> attributes, ushort type, out ReadOnlySpan<byte> value)
    {
        while (attributes.Length >= NetlinkWriter.AttributeHeaderLength)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            var kind = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3fff);
            if (length < NetlinkWriter.AttributeHeaderLength || length > attributes.Length)
            {
                throw new InvalidDataException($"a netlink attribute claims {length} bytes of {attributes.Length}");
            }

            if (kind == type)
            {
                value = attributes[NetlinkWriter.AttributeHeaderLength..length];
                return true;
            }

            attributes = attributes[Math.Min(attributes.Length, NetlinkWriter.Align(length))..];
        }

        value = default;
        return false;
    }
}
