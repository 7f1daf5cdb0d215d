namespace Sidus.Wire.Contracts;

/// <summary>
/// POST <see cref="ContentRoutes.Contents"/>: the contents of a version a node lacks, by id, for an update that moves
/// only what changed. The body is one flags byte (<see cref="AcceptZstd"/>) then the wanted ids, 32 bytes each, at
/// most <see cref="MaxIds"/>; the answer is one <see cref="ContentsFrame"/> per id, in the order asked. Only
/// contents of the version are served (a node's credential opens only its own version's).
/// </summary>
public static class ContentsRequest
{
    /// <summary>Ids per request: a request body of 128 KiB, an answer the server streams.</summary>
    public const int MaxIds = 4096;

    /// <summary>The node takes zstd frames (<see cref="ContentsFrame.Zstd"/>).</summary>
    public const byte AcceptZstd = 1;

    public const int IdLength = ContentBatchFrame.IdLength;

    public static byte[] Encode(IReadOnlyList<byte[]> ids, bool acceptZstd)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count is 0 or > MaxIds)
        {
            throw new ArgumentException($"a contents request asks for 1 to {MaxIds} ids, not {ids.Count}");
        }

        var body = new byte[1 + ids.Count * IdLength];
        body[0] = acceptZstd ? AcceptZstd : (byte)0;
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i].Length != IdLength)
            {
                throw new ArgumentException($"a content id is {IdLength} bytes");
            }

            ids[i].CopyTo(body, 1 + i * IdLength);
        }

        return body;
    }

    /// <summary>Reads a request body; a malformed one is an <see cref="InvalidDataException"/> with the reason.</summary>
    public static (List<byte[]> Ids, bool AcceptZstd) Decode(ReadOnlySpan<byte> body)
    {
        if (body.Length < 1 + IdLength || (body.Length - 1) % IdLength != 0)
        {
            throw new InvalidDataException($"a contents request is a flags byte and 32-byte ids, not {body.Length} bytes");
        }

        var count = (body.Length - 1) / IdLength;
        if (count > MaxIds)
        {
            throw new InvalidDataException($"a contents request asks for at most {MaxIds} ids, not {count}");
        }

        if ((body[0] & ~AcceptZstd) != 0)
        {
            throw new InvalidDataException($"unknown contents request flags 0x{body[0]:x2}");
        }

        var ids = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            ids.Add(body.Slice(1 + i * IdLength, IdLength).ToArray());
        }

        return (ids, (body[0] & AcceptZstd) != 0);
    }
}

/// <summary>
/// One content in a contents answer: the 32-byte id, the data's length (8 bytes big-endian), the encoding (1 byte:
/// <see cref="Raw"/> or <see cref="Zstd"/>, only when the node accepts it and it is smaller), the length sent
/// (8 bytes big-endian), then that many bytes. The node checks the decoded data against the id.
/// </summary>
public static class ContentsFrame
{
    public const byte Raw = 0;
    public const byte Zstd = 1;
    public const int HeaderLength = ContentBatchFrame.IdLength + sizeof(long) + 1 + sizeof(long);

    public static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> id, long length, byte encoding, long sent)
    {
        if (id.Length != ContentBatchFrame.IdLength || header.Length < HeaderLength)
        {
            throw new ArgumentException($"a frame header is {HeaderLength} bytes");
        }

        id.CopyTo(header);
        BinaryPrimitives.WriteInt64BigEndian(header[32..], length);
        header[40] = encoding;
        BinaryPrimitives.WriteInt64BigEndian(header[41..], sent);
    }

    public static (byte[] Id, long Length, byte Encoding, long Sent) ReadHeader(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderLength)
        {
            throw new InvalidDataException($"a frame header is {HeaderLength} bytes, got {header.Length}");
        }

        var length = BinaryPrimitives.ReadInt64BigEndian(header[32..]);
        var encoding = header[40];
        var sent = BinaryPrimitives.ReadInt64BigEndian(header[41..]);
        if (length < 0 || sent < 0 || encoding > Zstd || (encoding == Raw && sent != length))
        {
            throw new InvalidDataException($"a contents frame header is malformed (length {length}, encoding {encoding}, sent {sent})");
        }

        return (header[..32].ToArray(), length, encoding, sent);
    }
}
