namespace Sidus.Wire.Nbd;

/// <summary>Decodes transmission requests and encodes simple replies.</summary>
public static class NbdTransmission
{
    /// <summary>A request header; Invalid when the magic is wrong (the stream cannot be resynchronised after that).</summary>
    public static NbdDecodeStatus TryReadRequest(ReadOnlySpan<byte> source, out NbdRequest request, out string? problem)
    {
        request = default;
        problem = null;
        if (source.Length < NbdProtocol.RequestLength)
        {
            return NbdDecodeStatus.Incomplete;
        }

        var magic = BinaryPrimitives.ReadUInt32BigEndian(source);
        if (magic != NbdProtocol.RequestMagic)
        {
            problem = $"request with magic 0x{magic:x8} instead of 0x{NbdProtocol.RequestMagic:x8}";
            return NbdDecodeStatus.Invalid;
        }

        request = new NbdRequest(
            (NbdCommandFlags)BinaryPrimitives.ReadUInt16BigEndian(source[NbdProtocol.RequestFlagsOffset..]),
            (NbdCommand)BinaryPrimitives.ReadUInt16BigEndian(source[NbdProtocol.RequestTypeOffset..]),
            BinaryPrimitives.ReadUInt64BigEndian(source[NbdProtocol.RequestCookieOffset..]),
            BinaryPrimitives.ReadUInt64BigEndian(source[NbdProtocol.RequestOffsetOffset..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[NbdProtocol.RequestLengthOffset..]));
        return NbdDecodeStatus.Done;
    }

    /// <summary>Writes a request header (what a client sends; used by tests and tools).</summary>
    public static int WriteRequest(Span<byte> destination, NbdRequest request)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, NbdProtocol.RequestMagic);
        BinaryPrimitives.WriteUInt16BigEndian(destination[NbdProtocol.RequestFlagsOffset..], (ushort)request.Flags);
        BinaryPrimitives.WriteUInt16BigEndian(destination[NbdProtocol.RequestTypeOffset..], (ushort)request.Command);
        BinaryPrimitives.WriteUInt64BigEndian(destination[NbdProtocol.RequestCookieOffset..], request.Cookie);
        BinaryPrimitives.WriteUInt64BigEndian(destination[NbdProtocol.RequestOffsetOffset..], request.Offset);
        BinaryPrimitives.WriteUInt32BigEndian(destination[NbdProtocol.RequestLengthOffset..], request.Length);
        return NbdProtocol.RequestLength;
    }

    public static int WriteSimpleReply(Span<byte> destination, NbdError error, ulong cookie)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, NbdProtocol.SimpleReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], (uint)error);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], cookie);
        return NbdProtocol.SimpleReplyLength;
    }

    /// <summary>
    /// What a read-only export answers REQUEST of an export of SIZE bytes before any data moves: None for a read
    /// it will serve, a flush (nothing to flush), and the error for everything else.
    /// </summary>
    public static NbdError Check(NbdRequest request, ulong size) => request.Command switch
    {
        NbdCommand.Read when request.Length == 0 || request.Length > NbdProtocol.MaxRequestLength => NbdError.Invalid,
        NbdCommand.Read when request.Offset > size || request.Length > size - request.Offset => NbdError.Invalid,
        NbdCommand.Read or NbdCommand.Flush => NbdError.None,
        NbdCommand.Write or NbdCommand.Trim or NbdCommand.WriteZeroes or NbdCommand.Resize => NbdError.NotPermitted,
        _ => NbdError.Invalid,
    };
}
