namespace Sidus.Wire.Tftp;

/// <summary>
/// Decodes TFTP datagrams. Nothing here throws on hostile input: each method answers Done, Incomplete (the datagram
/// ends early) or Invalid (the bytes are wrong), with a reason a log line and an ERROR packet can carry.
/// </summary>
public static class TftpDecoder
{
    private const byte Nul = 0;
    private const byte FirstPrintable = 0x20;
    private const byte LastPrintable = 0x7e;
    private const byte Delete = 0x7f;

    public static bool TryReadOpcode(ReadOnlySpan<byte> packet, out TftpOpcode opcode)
    {
        if (packet.Length < TftpLimits.OpcodeLength)
        {
            opcode = default;
            return false;
        }

        opcode = (TftpOpcode)BinaryPrimitives.ReadUInt16BigEndian(packet[TftpLimits.OpcodeOffset..]);
        return true;
    }

    /// <summary>Decodes an RRQ or WRQ with its RFC 2347 options.</summary>
    public static TftpDecodeStatus TryDecodeRequest(ReadOnlySpan<byte> packet, out TftpRequest? request, out TftpDecodeProblem problem)
    {
        request = null;
        problem = default;
        if (packet.Length > TftpLimits.MaxRequestLength)
        {
            problem = TftpDecodeProblem.Illegal($"request of {packet.Length} bytes is longer than {TftpLimits.MaxRequestLength}");
            return TftpDecodeStatus.Invalid;
        }

        if (!TryReadOpcode(packet, out var opcode))
        {
            problem = TftpDecodeProblem.Illegal("packet shorter than an opcode");
            return TftpDecodeStatus.Incomplete;
        }

        if (opcode is not (TftpOpcode.ReadRequest or TftpOpcode.WriteRequest))
        {
            problem = TftpDecodeProblem.Illegal($"opcode {(ushort)opcode} is not a request");
            return TftpDecodeStatus.Invalid;
        }

        var rest = packet[TftpLimits.OpcodeLength..];
        if (!TryTakeField(ref rest, out var fileName))
        {
            problem = TftpDecodeProblem.Illegal("file name is not NUL-terminated");
            return TftpDecodeStatus.Incomplete;
        }

        if (fileName.IsEmpty)
        {
            problem = TftpDecodeProblem.Illegal("empty file name");
            return TftpDecodeStatus.Invalid;
        }

        if (fileName.IndexOfAnyInRange((byte)1, (byte)(FirstPrintable - 1)) >= 0 || fileName.Contains(Delete))
        {
            problem = TftpDecodeProblem.Illegal("control character in file name");
            return TftpDecodeStatus.Invalid;
        }

        if (!TryTakeField(ref rest, out var modeField))
        {
            problem = TftpDecodeProblem.Illegal("mode is not NUL-terminated");
            return TftpDecodeStatus.Incomplete;
        }

        if (!TryParseMode(modeField, out var mode))
        {
            problem = TftpDecodeProblem.Illegal($"unknown mode \"{Printable(modeField)}\"");
            return TftpDecodeStatus.Invalid;
        }

        var status = TryDecodeOptions(ref rest, out var options, out var ignored, out problem);
        if (status != TftpDecodeStatus.Done)
        {
            return status;
        }

        request = new TftpRequest(opcode, fileName.ToArray(), mode, options, ignored);
        return TftpDecodeStatus.Done;
    }

    public static TftpDecodeStatus TryDecodeAck(ReadOnlySpan<byte> packet, out ushort block)
    {
        block = 0;
        if (packet.Length < TftpLimits.HeaderLength)
        {
            return TftpDecodeStatus.Incomplete;
        }

        if (!TryReadOpcode(packet, out var opcode) || opcode != TftpOpcode.Ack || packet.Length != TftpLimits.HeaderLength)
        {
            return TftpDecodeStatus.Invalid;
        }

        block = BinaryPrimitives.ReadUInt16BigEndian(packet[TftpLimits.BlockOffset..]);
        return TftpDecodeStatus.Done;
    }

    public static TftpDecodeStatus TryDecodeData(ReadOnlySpan<byte> packet, out ushort block, out ReadOnlySpan<byte> payload)
    {
        block = 0;
        payload = default;
        if (packet.Length < TftpLimits.HeaderLength)
        {
            return TftpDecodeStatus.Incomplete;
        }

        if (!TryReadOpcode(packet, out var opcode) || opcode != TftpOpcode.Data || packet.Length > TftpLimits.MaxPacketLength)
        {
            return TftpDecodeStatus.Invalid;
        }

        block = BinaryPrimitives.ReadUInt16BigEndian(packet[TftpLimits.BlockOffset..]);
        payload = packet[TftpLimits.HeaderLength..];
        return TftpDecodeStatus.Done;
    }

    /// <summary>Decodes an ERROR packet; the message is made printable (it only ever goes to a log).</summary>
    public static TftpDecodeStatus TryDecodeError(ReadOnlySpan<byte> packet, out TftpErrorCode code, out string message)
    {
        code = default;
        message = string.Empty;
        if (!TryReadOpcode(packet, out var opcode))
        {
            return TftpDecodeStatus.Incomplete;
        }

        if (opcode != TftpOpcode.Error)
        {
            return TftpDecodeStatus.Invalid;
        }

        if (packet.Length < TftpLimits.HeaderLength)
        {
            return TftpDecodeStatus.Incomplete;
        }

        code = (TftpErrorCode)BinaryPrimitives.ReadUInt16BigEndian(packet[TftpLimits.BlockOffset..]);
        var rest = packet[TftpLimits.HeaderLength..];
        if (!TryTakeField(ref rest, out var text))
        {
            return TftpDecodeStatus.Incomplete;
        }

        message = Printable(text);
        return TftpDecodeStatus.Done;
    }

    /// <summary>Decodes an OACK (used by test clients and the fuzz target; the server never receives one).</summary>
    public static TftpDecodeStatus TryDecodeOptionAck(ReadOnlySpan<byte> packet, out List<TftpOption>? options)
    {
        options = null;
        if (!TryReadOpcode(packet, out var opcode))
        {
            return TftpDecodeStatus.Incomplete;
        }

        if (opcode != TftpOpcode.OptionAck || packet.Length > TftpLimits.MaxPacketLength)
        {
            return TftpDecodeStatus.Invalid;
        }

        var rest = packet[TftpLimits.OpcodeLength..];
        if (rest.IsEmpty)
        {
            return TftpDecodeStatus.Incomplete;
        }

        var list = new List<TftpOption>();
        while (!rest.IsEmpty)
        {
            if (!TryTakeField(ref rest, out var name) || !TryTakeField(ref rest, out var value))
            {
                return TftpDecodeStatus.Incomplete;
            }

            if (name.IsEmpty || !IsPrintableAscii(name) || !IsPrintableAscii(value))
            {
                return TftpDecodeStatus.Invalid;
            }

            list.Add(new TftpOption(Encoding.ASCII.GetString(name).ToLowerInvariant(), Encoding.ASCII.GetString(value)));
        }

        options = list;
        return TftpDecodeStatus.Done;
    }

    private static TftpDecodeStatus TryDecodeOptions(
        ref ReadOnlySpan<byte> rest,
        out TftpRequestedOptions options,
        out IReadOnlyList<string> ignored,
        out TftpDecodeProblem problem)
    {
        options = default;
        ignored = [];
        problem = default;
        int? blockSize = null;
        long? transferSize = null;
        int? timeout = null;
        int? windowSize = null;
        List<string>? seen = null;
        List<string>? unknown = null;
        while (!rest.IsEmpty)
        {
            // Some ROMs pad requests with NUL bytes: padding is not an option.
            if (!rest.ContainsAnyExcept(Nul))
            {
                break;
            }

            if (!TryTakeField(ref rest, out var nameField))
            {
                problem = TftpDecodeProblem.Illegal("option name is not NUL-terminated");
                return TftpDecodeStatus.Incomplete;
            }

            if (!TryTakeField(ref rest, out var valueField))
            {
                problem = TftpDecodeProblem.Illegal("option value is not NUL-terminated");
                return TftpDecodeStatus.Incomplete;
            }

            if (nameField.IsEmpty || !IsPrintableAscii(nameField) || !IsPrintableAscii(valueField))
            {
                problem = TftpDecodeProblem.Illegal("option name or value is empty or not printable");
                return TftpDecodeStatus.Invalid;
            }

            var name = Encoding.ASCII.GetString(nameField).ToLowerInvariant();
            seen ??= [];
            if (seen.Contains(name))
            {
                problem = TftpDecodeProblem.Option($"duplicate option {name}");
                return TftpDecodeStatus.Invalid;
            }

            seen.Add(name);
            switch (name)
            {
                case TftpLimits.BlockSizeOption:
                    if (!TryParseInRange(valueField, TftpLimits.MinBlockSize, TftpLimits.MaxBlockSize, out var b))
                    {
                        problem = TftpDecodeProblem.Option($"blksize \"{Printable(valueField)}\" is not {TftpLimits.MinBlockSize}..{TftpLimits.MaxBlockSize}");
                        return TftpDecodeStatus.Invalid;
                    }

                    blockSize = (int)b;
                    break;
                case TftpLimits.TransferSizeOption:
                    if (!TryParseInRange(valueField, 0, long.MaxValue, out var t))
                    {
                        problem = TftpDecodeProblem.Option($"tsize \"{Printable(valueField)}\" is not a size");
                        return TftpDecodeStatus.Invalid;
                    }

                    transferSize = t;
                    break;
                case TftpLimits.TimeoutOption:
                    if (!TryParseInRange(valueField, TftpLimits.MinTimeoutSeconds, TftpLimits.MaxTimeoutSeconds, out var s))
                    {
                        problem = TftpDecodeProblem.Option($"timeout \"{Printable(valueField)}\" is not {TftpLimits.MinTimeoutSeconds}..{TftpLimits.MaxTimeoutSeconds}");
                        return TftpDecodeStatus.Invalid;
                    }

                    timeout = (int)s;
                    break;
                case TftpLimits.WindowSizeOption:
                    if (!TryParseInRange(valueField, TftpLimits.MinWindowSize, TftpLimits.MaxWindowSize, out var w))
                    {
                        problem = TftpDecodeProblem.Option($"windowsize \"{Printable(valueField)}\" is not {TftpLimits.MinWindowSize}..{TftpLimits.MaxWindowSize}");
                        return TftpDecodeStatus.Invalid;
                    }

                    windowSize = (int)w;
                    break;
                default:
                    unknown ??= [];
                    unknown.Add(name);
                    break;
            }
        }

        options = new TftpRequestedOptions(blockSize, transferSize, timeout, windowSize);
        ignored = (IReadOnlyList<string>?)unknown ?? [];
        return TftpDecodeStatus.Done;
    }

    /// <summary>Takes the bytes up to the next NUL and steps past it; false when there is no NUL.</summary>
    private static bool TryTakeField(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        var end = rest.IndexOf(Nul);
        if (end < 0)
        {
            field = default;
            return false;
        }

        field = rest[..end];
        rest = rest[(end + 1)..];
        return true;
    }

    private static bool TryParseMode(ReadOnlySpan<byte> field, out TftpMode mode)
    {
        mode = default;
        if (!IsPrintableAscii(field))
        {
            return false;
        }

        if (Ascii.EqualsIgnoreCase(field, "octet"u8))
        {
            mode = TftpMode.Octet;
            return true;
        }

        if (Ascii.EqualsIgnoreCase(field, "netascii"u8))
        {
            mode = TftpMode.Netascii;
            return true;
        }

        if (Ascii.EqualsIgnoreCase(field, "mail"u8))
        {
            mode = TftpMode.Mail;
            return true;
        }

        return false;
    }

    /// <summary>Decimal digits only (no sign, no spaces), bounded in length so they can never overflow.</summary>
    private static bool TryParseInRange(ReadOnlySpan<byte> digits, long min, long max, out long value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > TftpLimits.MaxOptionDigits || digits.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            return false;
        }

        foreach (var d in digits)
        {
            value = (value * 10) + (d - '0');
        }

        return value >= min && value <= max;
    }

    private static bool IsPrintableAscii(ReadOnlySpan<byte> field) =>
        !field.ContainsAnyExceptInRange(FirstPrintable, LastPrintable);

    /// <summary>Bytes as log-safe text: printable ASCII kept, anything else as \xNN.</summary>
    internal static string Printable(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= FirstPrintable and <= LastPrintable && b != (byte)'\\')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(b.ToString("x2"));
            }
        }

        return sb.ToString();
    }
}
