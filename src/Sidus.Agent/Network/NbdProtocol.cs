using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Sidus.Agent.Network;

/// <summary>
/// The client half of the NBD fixed-newstyle handshake (the NBD protocol document, "Handshake" and "Option types"),
/// as span-based Encode/TryDecode functions: the socket work is <see cref="NbdClient"/>'s. A TryDecode returns false
/// when bytes are missing and throws <see cref="NbdProtocolException"/> when they are wrong.
/// </summary>
internal static class NbdProtocol
{
    /// <summary>"NBDMAGIC": the first 8 bytes a server sends.</summary>
    public const ulong InitMagic = 0x4e42444d41474943;

    /// <summary>"IHAVEOPT": the newstyle magic after NBDMAGIC, and the prefix of every option the client sends.</summary>
    public const ulong OptionMagic = 0x49484156454f5054;

    /// <summary>The magic of every option reply.</summary>
    public const ulong ReplyMagic = 0x0003e889045565a9;

    public const int GreetingLength = 18;
    public const int ClientFlagsLength = 4;
    public const int OptionHeaderLength = 16;
    public const int ReplyHeaderLength = 20;
    public const int ExportInfoLength = 12;

    /// <summary>NBD_OPT_EXPORT_NAME's answer: size, transmission flags, then 124 zeroes unless NO_ZEROES was agreed.</summary>
    public const int ExportNameReplyLength = 10;

    public const int ExportNameZeroes = 124;

    /// <summary>The protocol caps export names at 4096 bytes.</summary>
    public const int MaxExportNameLength = 4096;

    /// <summary>Replies longer than this are refused before reading them (an error text or an info block is small).</summary>
    public const int MaxReplyLength = 64 * 1024;

    public const ushort HandshakeFixedNewstyle = 1 << 0;
    public const ushort HandshakeNoZeroes = 1 << 1;

    public const uint OptExportName = 1;
    public const uint OptAbort = 2;
    public const uint OptGo = 7;

    public const uint RepAck = 1;
    public const uint RepInfo = 3;
    public const uint RepErrorBit = 0x8000_0000;
    public const uint RepErrUnsupported = RepErrorBit | 1;
    public const uint RepErrPolicy = RepErrorBit | 2;
    public const uint RepErrInvalid = RepErrorBit | 3;
    public const uint RepErrPlatform = RepErrorBit | 4;
    public const uint RepErrTlsRequired = RepErrorBit | 5;
    public const uint RepErrUnknown = RepErrorBit | 6;
    public const uint RepErrShutdown = RepErrorBit | 7;
    public const uint RepErrBlockSizeRequired = RepErrorBit | 8;
    public const uint RepErrTooBig = RepErrorBit | 9;

    public const ushort InfoExport = 0;

    public const ushort FlagHasFlags = 1 << 0;
    public const ushort FlagReadOnly = 1 << 1;
    public const ushort FlagSendFlush = 1 << 2;
    public const ushort FlagCanMultiConn = 1 << 8;

    /// <summary>Reads the server's greeting (NBDMAGIC, IHAVEOPT, handshake flags).</summary>
    public static bool TryDecodeGreeting(ReadOnlySpan<byte> data, out ushort handshakeFlags)
    {
        handshakeFlags = 0;
        if (data.Length < GreetingLength)
        {
            return false;
        }

        if (BinaryPrimitives.ReadUInt64BigEndian(data) != InitMagic)
        {
            NbdProtocolException.Throw("the server's greeting does not start with NBDMAGIC (not an NBD server?)");
        }

        if (BinaryPrimitives.ReadUInt64BigEndian(data[8..]) != OptionMagic)
        {
            NbdProtocolException.Throw("the server speaks oldstyle NBD; Sidus needs a fixed-newstyle server");
        }

        handshakeFlags = BinaryPrimitives.ReadUInt16BigEndian(data[16..]);
        if ((handshakeFlags & HandshakeFixedNewstyle) == 0)
        {
            NbdProtocolException.Throw("the server does not offer fixed newstyle negotiation");
        }

        return true;
    }

    /// <summary>The client flags answering SERVERFLAGS: fixed newstyle, and no zeroes when the server offers it.</summary>
    public static int EncodeClientFlags(ushort serverFlags, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(HandshakeFixedNewstyle | (serverFlags & HandshakeNoZeroes)));
        return ClientFlagsLength;
    }

    /// <summary>Length of NBD_OPT_GO for EXPORT (no information requests: the server always sends NBD_INFO_EXPORT).</summary>
    public static int GoLength(string export) => OptionHeaderLength + 4 + ExportNameBytes(export) + 2;

    /// <summary>NBD_OPT_GO: option header, name length, name, zero information requests.</summary>
    public static int EncodeGo(string export, Span<byte> destination)
    {
        var nameLength = ExportNameBytes(export);
        var length = GoLength(export);
        WriteOptionHeader(destination, OptGo, (uint)(length - OptionHeaderLength));
        BinaryPrimitives.WriteUInt32BigEndian(destination[OptionHeaderLength..], (uint)nameLength);
        Encoding.UTF8.GetBytes(export, destination[(OptionHeaderLength + 4)..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(OptionHeaderLength + 4 + nameLength)..], 0);
        return length;
    }

    public static int ExportNameLength(string export) => OptionHeaderLength + ExportNameBytes(export);

    /// <summary>NBD_OPT_EXPORT_NAME, the fallback for servers that answer NBD_OPT_GO with "unsupported".</summary>
    public static int EncodeExportName(string export, Span<byte> destination)
    {
        var nameLength = ExportNameBytes(export);
        WriteOptionHeader(destination, OptExportName, (uint)nameLength);
        Encoding.UTF8.GetBytes(export, destination[OptionHeaderLength..]);
        return OptionHeaderLength + nameLength;
    }

    /// <summary>NBD_OPT_ABORT with no data: a polite goodbye before closing during the handshake.</summary>
    public static int EncodeAbort(Span<byte> destination)
    {
        WriteOptionHeader(destination, OptAbort, 0);
        return OptionHeaderLength;
    }

    /// <summary>An option reply's header: magic, option, reply type, length of the data that follows.</summary>
    public static bool TryDecodeReplyHeader(ReadOnlySpan<byte> data, uint expectedOption, out uint type, out int length)
    {
        type = 0;
        length = 0;
        if (data.Length < ReplyHeaderLength)
        {
            return false;
        }

        if (BinaryPrimitives.ReadUInt64BigEndian(data) != ReplyMagic)
        {
            NbdProtocolException.Throw("an option reply does not start with the reply magic");
        }

        var option = BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
        if (option != expectedOption)
        {
            NbdProtocolException.Throw($"the server answered option {option} while option {expectedOption} was asked");
        }

        type = BinaryPrimitives.ReadUInt32BigEndian(data[12..]);
        var declared = BinaryPrimitives.ReadUInt32BigEndian(data[16..]);
        if (declared > MaxReplyLength)
        {
            NbdProtocolException.Throw($"an option reply of {declared} bytes is larger than the {MaxReplyLength} accepted");
        }

        length = (int)declared;
        return true;
    }

    /// <summary>
    /// The data of an NBD_REP_INFO reply: true with SIZE and FLAGS for NBD_INFO_EXPORT, false for other information
    /// types (which a client must ignore).
    /// </summary>
    public static bool TryDecodeExportInfo(ReadOnlySpan<byte> data, out ulong size, out ushort flags)
    {
        size = 0;
        flags = 0;
        if (data.Length < 2)
        {
            NbdProtocolException.Throw("an NBD_REP_INFO reply has no information type");
        }

        if (BinaryPrimitives.ReadUInt16BigEndian(data) != InfoExport)
        {
            return false;
        }

        if (data.Length != ExportInfoLength)
        {
            NbdProtocolException.Throw($"NBD_INFO_EXPORT is {data.Length} bytes, not {ExportInfoLength}");
        }

        size = BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
        flags = BinaryPrimitives.ReadUInt16BigEndian(data[10..]);
        return true;
    }

    /// <summary>The answer to NBD_OPT_EXPORT_NAME: export size and transmission flags.</summary>
    public static bool TryDecodeExportNameReply(ReadOnlySpan<byte> data, out ulong size, out ushort flags)
    {
        size = 0;
        flags = 0;
        if (data.Length < ExportNameReplyLength)
        {
            return false;
        }

        size = BinaryPrimitives.ReadUInt64BigEndian(data);
        flags = BinaryPrimitives.ReadUInt16BigEndian(data[8..]);
        return true;
    }

    /// <summary>What a person should read for an error reply type.</summary>
    public static string DescribeError(uint type) => type switch
    {
        RepErrUnsupported => "option not supported",
        RepErrPolicy => "refused by the server's policy",
        RepErrInvalid => "invalid request",
        RepErrPlatform => "not supported on the server's platform",
        RepErrTlsRequired => "the server requires TLS",
        RepErrUnknown => "unknown export",
        RepErrShutdown => "the server is shutting down",
        RepErrBlockSizeRequired => "the server requires block size negotiation",
        RepErrTooBig => "request too big",
        _ => $"error reply 0x{type:x8}",
    };

    private static int ExportNameBytes(string export)
    {
        var length = Encoding.UTF8.GetByteCount(export);
        if (length is 0 or > MaxExportNameLength)
        {
            throw new ArgumentException($"an NBD export name has 1 to {MaxExportNameLength} bytes", nameof(export));
        }

        return length;
    }

    private static void WriteOptionHeader(Span<byte> destination, uint option, uint length)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, OptionMagic);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], option);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], length);
    }
}

/// <summary>The server broke the NBD protocol (or is not an NBD server).</summary>
internal sealed class NbdProtocolException(string message) : IOException(message)
{
    [DoesNotReturn]
    public static void Throw(string message) => throw new NbdProtocolException(message);
}
