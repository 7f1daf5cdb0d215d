using System.Diagnostics.CodeAnalysis;
using Sidus.Wire.Nbd;

namespace Sidus.Agent.Network;

/// <summary>
/// The client half of the NBD fixed-newstyle handshake (the NBD protocol document, "Handshake" and "Option types"),
/// as span-based Encode/TryDecode functions on the server's own constants and enums (Sidus.Wire.Nbd), so both ends
/// agree on the wire by construction; the socket work is <see cref="NbdClient"/>'s. A TryDecode returns false when
/// bytes are missing and throws <see cref="NbdProtocolException"/> when they are wrong.
/// </summary>
internal static class NbdClientCodec
{
    /// <summary>Replies longer than this are refused before reading them (an error text or an info block is small).</summary>
    public const int MaxReplyLength = 64 * 1024;

    /// <summary>Reads the server's greeting (NBDMAGIC, IHAVEOPT, handshake flags).</summary>
    public static bool TryDecodeGreeting(ReadOnlySpan<byte> data, out NbdHandshakeFlags handshakeFlags)
    {
        handshakeFlags = 0;
        if (data.Length < NbdProtocol.GreetingLength)
        {
            return false;
        }

        if (BinaryPrimitives.ReadUInt64BigEndian(data) != NbdProtocol.InitMagic)
        {
            NbdProtocolException.Throw("the server's greeting does not start with NBDMAGIC (not an NBD server?)");
        }

        if (BinaryPrimitives.ReadUInt64BigEndian(data[8..]) != NbdProtocol.OptionMagic)
        {
            NbdProtocolException.Throw("the server speaks oldstyle NBD; Sidus needs a fixed-newstyle server");
        }

        handshakeFlags = (NbdHandshakeFlags)BinaryPrimitives.ReadUInt16BigEndian(data[16..]);
        if ((handshakeFlags & NbdHandshakeFlags.FixedNewstyle) == 0)
        {
            NbdProtocolException.Throw("the server does not offer fixed newstyle negotiation");
        }

        return true;
    }

    /// <summary>The client flags answering SERVERFLAGS: fixed newstyle, and no zeroes when the server offers it.</summary>
    public static int EncodeClientFlags(NbdHandshakeFlags serverFlags, Span<byte> destination)
    {
        var flags = NbdClientFlags.FixedNewstyle | ((serverFlags & NbdHandshakeFlags.NoZeroes) != 0 ? NbdClientFlags.NoZeroes : NbdClientFlags.None);
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)flags);
        return NbdProtocol.ClientFlagsLength;
    }

    /// <summary>Length of NBD_OPT_GO for EXPORT (no information requests: the server always sends NBD_INFO_EXPORT).</summary>
    public static int GoLength(string export) => NbdProtocol.OptionHeaderLength + 4 + ExportNameBytes(export) + 2;

    /// <summary>NBD_OPT_GO: option header, name length, name, zero information requests.</summary>
    public static int EncodeGo(string export, Span<byte> destination)
    {
        var nameLength = ExportNameBytes(export);
        var length = GoLength(export);
        WriteOptionHeader(destination, NbdOption.Go, (uint)(length - NbdProtocol.OptionHeaderLength));
        BinaryPrimitives.WriteUInt32BigEndian(destination[NbdProtocol.OptionHeaderLength..], (uint)nameLength);
        Encoding.UTF8.GetBytes(export, destination[(NbdProtocol.OptionHeaderLength + 4)..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(NbdProtocol.OptionHeaderLength + 4 + nameLength)..], 0);
        return length;
    }

    public static int ExportNameLength(string export) => NbdProtocol.OptionHeaderLength + ExportNameBytes(export);

    /// <summary>NBD_OPT_EXPORT_NAME, the fallback for servers that answer NBD_OPT_GO with "unsupported".</summary>
    public static int EncodeExportName(string export, Span<byte> destination)
    {
        var nameLength = ExportNameBytes(export);
        WriteOptionHeader(destination, NbdOption.ExportName, (uint)nameLength);
        Encoding.UTF8.GetBytes(export, destination[NbdProtocol.OptionHeaderLength..]);
        return NbdProtocol.OptionHeaderLength + nameLength;
    }

    /// <summary>NBD_OPT_ABORT with no data: a polite goodbye before closing during the handshake.</summary>
    public static int EncodeAbort(Span<byte> destination)
    {
        WriteOptionHeader(destination, NbdOption.Abort, 0);
        return NbdProtocol.OptionHeaderLength;
    }

    /// <summary>An option reply's header: magic, option, reply type, length of the data that follows.</summary>
    public static bool TryDecodeReplyHeader(ReadOnlySpan<byte> data, NbdOption expectedOption, out NbdReplyType type, out int length)
    {
        type = 0;
        length = 0;
        if (data.Length < NbdProtocol.OptionReplyHeaderLength)
        {
            return false;
        }

        if (BinaryPrimitives.ReadUInt64BigEndian(data) != NbdProtocol.OptionReplyMagic)
        {
            NbdProtocolException.Throw("an option reply does not start with the reply magic");
        }

        var option = (NbdOption)BinaryPrimitives.ReadUInt32BigEndian(data[8..]);
        if (option != expectedOption)
        {
            NbdProtocolException.Throw($"the server answered option {(uint)option} while option {(uint)expectedOption} was asked");
        }

        type = (NbdReplyType)BinaryPrimitives.ReadUInt32BigEndian(data[12..]);
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
    public static bool TryDecodeExportInfo(ReadOnlySpan<byte> data, out ulong size, out NbdTransmissionFlags flags)
    {
        size = 0;
        flags = 0;
        if (data.Length < 2)
        {
            NbdProtocolException.Throw("an NBD_REP_INFO reply has no information type");
        }

        if (BinaryPrimitives.ReadUInt16BigEndian(data) != (ushort)NbdInfoType.Export)
        {
            return false;
        }

        if (data.Length != NbdProtocol.InfoExportLength)
        {
            NbdProtocolException.Throw($"NBD_INFO_EXPORT is {data.Length} bytes, not {NbdProtocol.InfoExportLength}");
        }

        size = BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
        flags = (NbdTransmissionFlags)BinaryPrimitives.ReadUInt16BigEndian(data[10..]);
        return true;
    }

    /// <summary>The answer to NBD_OPT_EXPORT_NAME: export size and transmission flags.</summary>
    public static bool TryDecodeExportNameReply(ReadOnlySpan<byte> data, out ulong size, out NbdTransmissionFlags flags)
    {
        size = 0;
        flags = 0;
        if (data.Length < NbdProtocol.ExportNameReplyLength)
        {
            return false;
        }

        size = BinaryPrimitives.ReadUInt64BigEndian(data);
        flags = (NbdTransmissionFlags)BinaryPrimitives.ReadUInt16BigEndian(data[8..]);
        return true;
    }

    /// <summary>What a person should read for an error reply type.</summary>
    public static string DescribeError(NbdReplyType type) => type switch
    {
        NbdReplyType.ErrorUnsupported => "option not supported",
        NbdReplyType.ErrorPolicy => "refused by the server's policy",
        NbdReplyType.ErrorInvalid => "invalid request",
        NbdReplyType.ErrorPlatform => "not supported on the server's platform",
        NbdReplyType.ErrorTlsRequired => "the server requires TLS",
        NbdReplyType.ErrorUnknown => "unknown export",
        NbdReplyType.ErrorShutdown => "the server is shutting down",
        NbdReplyType.ErrorBlockSizeRequired => "the server requires block size negotiation",
        NbdReplyType.ErrorTooBig => "request too big",
        _ => $"error reply 0x{(uint)type:x8}",
    };

    private static int ExportNameBytes(string export)
    {
        var length = Encoding.UTF8.GetByteCount(export);
        if (length is 0 or > NbdProtocol.MaxStringLength)
        {
            throw new ArgumentException($"an NBD export name has 1 to {NbdProtocol.MaxStringLength} bytes", nameof(export));
        }

        return length;
    }

    private static void WriteOptionHeader(Span<byte> destination, NbdOption option, uint length)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, NbdProtocol.OptionMagic);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)option);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], length);
    }
}

/// <summary>The server broke the NBD protocol (or is not an NBD server).</summary>
internal sealed class NbdProtocolException(string message) : IOException(message)
{
    [DoesNotReturn]
    public static void Throw(string message) => throw new NbdProtocolException(message);
}
