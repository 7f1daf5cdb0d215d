namespace Sidus.Wire.Contracts;

/// <summary>
/// One content in a batch answer: the 32-byte content id, its length as 8 bytes big-endian, then that many bytes of
/// data. The node checks id and length against its plan and the data against the id.
/// </summary>
public static class ContentBatchFrame
{
    public const int IdLength = 32;
    public const int HeaderLength = IdLength + sizeof(long);

    public static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> id, long length)
    {
        if (id.Length != IdLength || header.Length < HeaderLength)
        {
            throw new ArgumentException($"a frame header is a {IdLength}-byte id and a length in {HeaderLength} bytes");
        }

        id.CopyTo(header);
        BinaryPrimitives.WriteInt64BigEndian(header[IdLength..], length);
    }

    public static (byte[] Id, long Length) ReadHeader(ReadOnlySpan<byte> header) =>
        header.Length < HeaderLength
            ? throw new InvalidDataException($"a frame header is {HeaderLength} bytes, got {header.Length}")
            : (header[..IdLength].ToArray(), BinaryPrimitives.ReadInt64BigEndian(header[IdLength..]));
}
