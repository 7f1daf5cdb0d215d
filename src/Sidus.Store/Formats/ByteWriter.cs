using System.Buffers;

namespace Sidus.Store.Formats;

/// <summary>Appends the store's canonical encodings: LEB128 varints, length-prefixed bytes, object ids.</summary>
public sealed class ByteWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public ByteWriter(int capacity = 256) => _buffer = new ArrayBufferWriter<byte>(capacity);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public int Length => _buffer.WrittenCount;

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public void Clear() => _buffer.Clear();

    public void Byte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void Varint(ulong value)
    {
        var span = _buffer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        _buffer.Advance(i);
    }

    public void SignedVarint(long value) => Varint((ulong)((value << 1) ^ (value >> 63)));

    public void Bytes(ReadOnlySpan<byte> value)
    {
        Varint((ulong)value.Length);
        Raw(value);
    }

    public void Raw(ReadOnlySpan<byte> value) => _buffer.Write(value);

    public void Id(ObjectId id)
    {
        id.Write(_buffer.GetSpan(ObjectId.Size));
        _buffer.Advance(ObjectId.Size);
    }

    public void UInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void UInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }
}
