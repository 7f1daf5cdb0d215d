namespace Sidus.Store.Formats;

/// <summary>Reads what <see cref="ByteWriter"/> wrote; any malformed input is a <see cref="CorruptObjectException"/>.</summary>
public ref struct ByteReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ByteReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly bool AtEnd => _position == _data.Length;

    public readonly int Position => _position;

    public byte Byte()
    {
        Need(1);
        return _data[_position++];
    }

    public ulong Varint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = Byte();
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new CorruptObjectException("varint longer than 64 bits");
    }

    public long SignedVarint()
    {
        var raw = Varint();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    public uint UInt32Varint()
    {
        var value = Varint();
        return value <= uint.MaxValue ? (uint)value : throw new CorruptObjectException("value does not fit 32 bits");
    }

    public int Length(int max)
    {
        var value = Varint();
        return value <= (ulong)max ? (int)value : throw new CorruptObjectException($"length {value} over the limit {max}");
    }

    public ReadOnlySpan<byte> Bytes(int max) => Raw(Length(max));

    public ReadOnlySpan<byte> Raw(int length)
    {
        Need(length);
        var span = _data.Slice(_position, length);
        _position += length;
        return span;
    }

    public ObjectId Id() => ObjectId.Read(Raw(ObjectId.Size));

    public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Raw(4));

    public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Raw(8));

    public readonly void ExpectEnd()
    {
        if (!AtEnd)
        {
            throw new CorruptObjectException($"{_data.Length - _position} unexpected bytes after the end");
        }
    }

    private readonly void Need(int count)
    {
        if (count < 0 || _data.Length - _position < count)
        {
            throw new CorruptObjectException("data ends early");
        }
    }
}

