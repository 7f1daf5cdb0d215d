namespace Sidus.Wire.Nbd;

/// <summary>
/// Encodes and decodes the fixed newstyle handshake: the greeting, the client's flags, option requests and the
/// server's option replies. Decoders never throw on client bytes: they report Incomplete or Invalid (with a reason).
/// Encoders write into the caller's span and return the bytes written.
/// </summary>
public static class NbdHandshake
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static int WriteGreeting(Span<byte> destination, NbdHandshakeFlags flags)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, NbdProtocol.InitMagic);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], NbdProtocol.OptionMagic);
        BinaryPrimitives.WriteUInt16BigEndian(destination[16..], (ushort)flags);
        return NbdProtocol.GreetingLength;
    }

    /// <summary>The client's flags; Invalid for bits this server does not know, or a client without fixed newstyle.</summary>
    public static NbdDecodeStatus TryReadClientFlags(ReadOnlySpan<byte> source, out NbdClientFlags flags, out string? problem)
    {
        flags = NbdClientFlags.None;
        problem = null;
        if (source.Length < NbdProtocol.ClientFlagsLength)
        {
            return NbdDecodeStatus.Incomplete;
        }

        flags = (NbdClientFlags)BinaryPrimitives.ReadUInt32BigEndian(source);
        if ((flags & ~NbdClientFlags.Known) != 0)
        {
            problem = $"unknown client flags 0x{(uint)flags:x8}";
            return NbdDecodeStatus.Invalid;
        }

        if ((flags & NbdClientFlags.FixedNewstyle) == 0)
        {
            problem = "the client does not speak the fixed newstyle handshake";
            return NbdDecodeStatus.Invalid;
        }

        return NbdDecodeStatus.Done;
    }

    /// <summary>An option request header (its data is not checked here: compare the length with the limit first).</summary>
    public static NbdDecodeStatus TryReadOptionHeader(ReadOnlySpan<byte> source, out NbdOptionHeader header, out string? problem)
    {
        header = default;
        problem = null;
        if (source.Length < NbdProtocol.OptionHeaderLength)
        {
            return NbdDecodeStatus.Incomplete;
        }

        var magic = BinaryPrimitives.ReadUInt64BigEndian(source);
        if (magic != NbdProtocol.OptionMagic)
        {
            problem = $"option request with magic 0x{magic:x16} instead of IHAVEOPT";
            return NbdDecodeStatus.Invalid;
        }

        header = new NbdOptionHeader(
            (NbdOption)BinaryPrimitives.ReadUInt32BigEndian(source[NbdProtocol.OptionHeaderOptionOffset..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[NbdProtocol.OptionHeaderLengthOffset..]));
        return NbdDecodeStatus.Done;
    }

    /// <summary>
    /// The data of NBD_OPT_INFO / NBD_OPT_GO: name length (4), name (UTF-8), item count (2), items (2 each).
    /// <paramref name="data"/> is the option's whole data, so a short one is Invalid, not Incomplete.
    /// </summary>
    public static NbdDecodeStatus TryReadInfoRequest(ReadOnlySpan<byte> data, out NbdInfoRequest? request, out string? problem)
    {
        request = null;
        problem = null;
        if (data.Length < 4 + 2)
        {
            problem = $"NBD_OPT_INFO/GO data of {data.Length} bytes is shorter than a name length and an item count";
            return NbdDecodeStatus.Invalid;
        }

        var nameLength = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (nameLength > NbdProtocol.MaxStringLength || nameLength > (uint)(data.Length - 4 - 2))
        {
            problem = $"export name length {nameLength} does not fit the option's {data.Length} bytes";
            return NbdDecodeStatus.Invalid;
        }

        if (!TryDecodeName(data.Slice(4, (int)nameLength), out var name, out problem))
        {
            return NbdDecodeStatus.Invalid;
        }

        var rest = data[(4 + (int)nameLength)..];
        var count = BinaryPrimitives.ReadUInt16BigEndian(rest);
        rest = rest[2..];
        if (count > NbdProtocol.MaxInfoRequests || rest.Length != count * 2)
        {
            problem = $"{count} information requests do not match the {rest.Length} bytes left";
            return NbdDecodeStatus.Invalid;
        }

        var items = new NbdInfoType[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = (NbdInfoType)BinaryPrimitives.ReadUInt16BigEndian(rest[(i * 2)..]);
        }

        request = new NbdInfoRequest(name, items);
        return NbdDecodeStatus.Done;
    }

    /// <summary>NBD_OPT_EXPORT_NAME's data is the bare name.</summary>
    public static NbdDecodeStatus TryReadExportName(ReadOnlySpan<byte> data, out string name, out string? problem)
    {
        if (data.Length > NbdProtocol.MaxStringLength)
        {
            name = string.Empty;
            problem = $"export name of {data.Length} bytes is longer than {NbdProtocol.MaxStringLength}";
            return NbdDecodeStatus.Invalid;
        }

        return TryDecodeName(data, out name, out problem) ? NbdDecodeStatus.Done : NbdDecodeStatus.Invalid;
    }

    /// <summary>An option reply header; <paramref name="dataLength"/> bytes of reply data must follow.</summary>
    public static int WriteReplyHeader(Span<byte> destination, NbdOption option, NbdReplyType type, int dataLength)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, NbdProtocol.OptionReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)option);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], (uint)type);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], (uint)dataLength);
        return NbdProtocol.OptionReplyHeaderLength;
    }

    /// <summary>A whole reply whose data is a message for people (errors) or nothing (ACK).</summary>
    public static int WriteReply(Span<byte> destination, NbdOption option, NbdReplyType type, string? message = null)
    {
        var length = message is null ? 0 : Encoding.UTF8.GetBytes(message, destination[NbdProtocol.OptionReplyHeaderLength..]);
        WriteReplyHeader(destination, option, type, length);
        return NbdProtocol.OptionReplyHeaderLength + length;
    }

    /// <summary>Bytes a <see cref="WriteReply"/> of MESSAGE takes.</summary>
    public static int ReplyLength(string? message) => NbdProtocol.OptionReplyHeaderLength + (message is null ? 0 : Encoding.UTF8.GetByteCount(message));

    /// <summary>One NBD_REP_SERVER entry of an NBD_OPT_LIST answer: name length (4), name, description.</summary>
    public static int WriteServerEntry(Span<byte> destination, string name, string? description)
    {
        var body = destination[NbdProtocol.OptionReplyHeaderLength..];
        var nameLength = Encoding.UTF8.GetBytes(name, body[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(body, (uint)nameLength);
        var descriptionLength = description is null ? 0 : Encoding.UTF8.GetBytes(description, body[(4 + nameLength)..]);
        var length = 4 + nameLength + descriptionLength;
        WriteReplyHeader(destination, NbdOption.List, NbdReplyType.Server, length);
        return NbdProtocol.OptionReplyHeaderLength + length;
    }

    /// <summary>NBD_REP_INFO carrying NBD_INFO_EXPORT (size and transmission flags).</summary>
    public static int WriteInfoExport(Span<byte> destination, NbdOption option, ulong size, NbdTransmissionFlags flags)
    {
        var body = destination[NbdProtocol.OptionReplyHeaderLength..];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)NbdInfoType.Export);
        BinaryPrimitives.WriteUInt64BigEndian(body[2..], size);
        BinaryPrimitives.WriteUInt16BigEndian(body[10..], (ushort)flags);
        WriteReplyHeader(destination, option, NbdReplyType.Info, NbdProtocol.InfoExportLength);
        return NbdProtocol.OptionReplyHeaderLength + NbdProtocol.InfoExportLength;
    }

    /// <summary>NBD_REP_INFO carrying NBD_INFO_BLOCK_SIZE.</summary>
    public static int WriteInfoBlockSize(Span<byte> destination, NbdOption option, uint minimum, uint preferred, uint maximum)
    {
        var body = destination[NbdProtocol.OptionReplyHeaderLength..];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)NbdInfoType.BlockSize);
        BinaryPrimitives.WriteUInt32BigEndian(body[2..], minimum);
        BinaryPrimitives.WriteUInt32BigEndian(body[6..], preferred);
        BinaryPrimitives.WriteUInt32BigEndian(body[10..], maximum);
        WriteReplyHeader(destination, option, NbdReplyType.Info, NbdProtocol.InfoBlockSizeLength);
        return NbdProtocol.OptionReplyHeaderLength + NbdProtocol.InfoBlockSizeLength;
    }

    /// <summary>NBD_REP_INFO carrying NBD_INFO_NAME or NBD_INFO_DESCRIPTION: type (2) and the text.</summary>
    public static int WriteInfoText(Span<byte> destination, NbdOption option, NbdInfoType type, string text)
    {
        var body = destination[NbdProtocol.OptionReplyHeaderLength..];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)type);
        var length = 2 + Encoding.UTF8.GetBytes(text, body[2..]);
        WriteReplyHeader(destination, option, NbdReplyType.Info, length);
        return NbdProtocol.OptionReplyHeaderLength + length;
    }

    /// <summary>The answer to NBD_OPT_EXPORT_NAME (no reply header): size, flags, and 124 zeros unless NO_ZEROES was agreed.</summary>
    public static int WriteExportNameReply(Span<byte> destination, ulong size, NbdTransmissionFlags flags, bool noZeroes)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, size);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], (ushort)flags);
        if (noZeroes)
        {
            return NbdProtocol.ExportNameReplyLength;
        }

        destination.Slice(NbdProtocol.ExportNameReplyLength, NbdProtocol.ExportNameReplyZeros).Clear();
        return NbdProtocol.ExportNameReplyLength + NbdProtocol.ExportNameReplyZeros;
    }

    private static bool TryDecodeName(ReadOnlySpan<byte> bytes, out string name, out string? problem)
    {
        try
        {
            name = StrictUtf8.GetString(bytes);
            problem = null;
            return true;
        }
        catch (DecoderFallbackException)
        {
            name = string.Empty;
            problem = "the export name is not UTF-8";
            return false;
        }
    }
}
