namespace Sidus.Wire.Tftp;

/// <summary>
/// Encodes TFTP packets into a caller's buffer and returns the bytes written. A buffer that is too small is a
/// caller bug (ArgumentException), never a property of what a peer sent.
/// </summary>
public static class TftpEncoder
{
    /// <summary>Writes the 4-byte DATA header; the caller puts the block's bytes right after it.</summary>
    public static int WriteDataHeader(Span<byte> destination, ushort block)
    {
        EnsureLength(destination, TftpLimits.HeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.Data);
        BinaryPrimitives.WriteUInt16BigEndian(destination[TftpLimits.BlockOffset..], block);
        return TftpLimits.HeaderLength;
    }

    public static int WriteData(Span<byte> destination, ushort block, ReadOnlySpan<byte> payload)
    {
        EnsureLength(destination, TftpLimits.HeaderLength + payload.Length);
        WriteDataHeader(destination, block);
        payload.CopyTo(destination[TftpLimits.HeaderLength..]);
        return TftpLimits.HeaderLength + payload.Length;
    }

    public static int WriteAck(Span<byte> destination, ushort block)
    {
        EnsureLength(destination, TftpLimits.HeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.Ack);
        BinaryPrimitives.WriteUInt16BigEndian(destination[TftpLimits.BlockOffset..], block);
        return TftpLimits.HeaderLength;
    }

    /// <summary>Writes an ERROR; the message is cut to <see cref="TftpLimits.MaxErrorMessageLength"/> printable ASCII.</summary>
    public static int WriteError(Span<byte> destination, TftpErrorCode code, string message)
    {
        var length = Math.Min(message.Length, TftpLimits.MaxErrorMessageLength);
        EnsureLength(destination, TftpLimits.HeaderLength + length + 1);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.Error);
        BinaryPrimitives.WriteUInt16BigEndian(destination[TftpLimits.BlockOffset..], (ushort)code);
        var text = destination.Slice(TftpLimits.HeaderLength, length);
        for (var i = 0; i < length; i++)
        {
            var c = message[i];
            text[i] = c is >= ' ' and <= '~' ? (byte)c : (byte)'?';
        }

        destination[TftpLimits.HeaderLength + length] = 0;
        return TftpLimits.HeaderLength + length + 1;
    }

    public static int WriteOptionAck(Span<byte> destination, ReadOnlySpan<TftpOption> options)
    {
        if (options.IsEmpty)
        {
            ThrowArgument("an OACK carries at least one option");
        }

        EnsureLength(destination, TftpLimits.OpcodeLength);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)TftpOpcode.OptionAck);
        var written = TftpLimits.OpcodeLength;
        foreach (var option in options)
        {
            written += WriteField(destination[written..], option.Name);
            written += WriteField(destination[written..], option.Value);
        }

        return written;
    }

    /// <summary>Writes an RRQ or WRQ (what a client sends; used by tests and tools).</summary>
    public static int WriteRequest(Span<byte> destination, TftpOpcode opcode, ReadOnlySpan<byte> fileName, string mode, ReadOnlySpan<TftpOption> options)
    {
        if (opcode is not (TftpOpcode.ReadRequest or TftpOpcode.WriteRequest))
        {
            ThrowArgument("a request is an RRQ or a WRQ");
        }

        EnsureLength(destination, TftpLimits.OpcodeLength + fileName.Length + 1);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)opcode);
        var written = TftpLimits.OpcodeLength;
        fileName.CopyTo(destination[written..]);
        written += fileName.Length;
        destination[written++] = 0;
        written += WriteField(destination[written..], mode);
        foreach (var option in options)
        {
            written += WriteField(destination[written..], option.Name);
            written += WriteField(destination[written..], option.Value);
        }

        return written;
    }

    private static int WriteField(Span<byte> destination, string value)
    {
        EnsureLength(destination, value.Length + 1);
        var n = Encoding.ASCII.GetBytes(value, destination);
        destination[n] = 0;
        return n + 1;
    }

    private static void EnsureLength(Span<byte> destination, int needed)
    {
        if (destination.Length < needed)
        {
            ThrowArgument($"buffer of {destination.Length} bytes cannot hold {needed}");
        }
    }

    [DoesNotReturn]
    private static void ThrowArgument(string message) => throw new ArgumentException(message, "destination");
}
