using static Sidus.Wire.Dhcp.DhcpConstants;

namespace Sidus.Wire.Dhcp;

/// <summary>One BOOTP/DHCP message (RFC 2131): the fixed header by named offsets, then the options.</summary>
public sealed class DhcpPacket
{
    public byte Op { get; set; } = OpBootRequest;
    public byte HType { get; set; } = HTypeEthernet;
    public byte HLen { get; set; } = EthernetAddressLength;
    public byte Hops { get; set; }
    public uint Xid { get; set; }
    public ushort Secs { get; set; }
    public ushort Flags { get; set; }
    public Ip4 Ciaddr { get; set; }
    public Ip4 Yiaddr { get; set; }
    public Ip4 Siaddr { get; set; }
    public Ip4 Giaddr { get; set; }

    /// <summary>All 16 bytes of chaddr; the client's hardware address is the first <see cref="HLen"/> of them.</summary>
    public byte[] Chaddr { get; } = new byte[ChaddrSize];

    /// <summary>Raw sname field; empty (all zero) when it carried overloaded options.</summary>
    public byte[] Sname { get; } = new byte[SnameSize];

    /// <summary>Raw file field; empty (all zero) when it carried overloaded options.</summary>
    public byte[] File { get; } = new byte[FileSize];

    public DhcpOptions Options { get; } = new();

    public DhcpMessageType? MessageType => Options.MessageType;

    public bool IsBroadcast => (Flags & BroadcastFlag) != 0;

    public ReadOnlySpan<byte> HardwareAddress => Chaddr.AsSpan(0, Math.Min((int)HLen, ChaddrSize));

    /// <summary>The hardware address as lower-case colon-separated hex (the key Sidus stores nodes under).</summary>
    public string ClientMac => FormatMac(HardwareAddress);

    /// <summary>The boot file name: text of <see cref="File"/> up to its first NUL.</summary>
    public string FileName
    {
        get => ReadCString(File);
        set => WriteCString(File, value);
    }

    /// <summary>The server host name: text of <see cref="Sname"/> up to its first NUL.</summary>
    public string ServerName
    {
        get => ReadCString(Sname);
        set => WriteCString(Sname, value);
    }

    public static string FormatMac(ReadOnlySpan<byte> address)
    {
        if (address.IsEmpty)
            return string.Empty;
        var hex = Convert.ToHexStringLower(address);
        return string.Create(address.Length * 3 - 1, hex, static (chars, h) =>
        {
            for (int i = 0, j = 0; i < h.Length; i += 2)
            {
                if (i > 0)
                    chars[j++] = ':';
                chars[j++] = h[i];
                chars[j++] = h[i + 1];
            }
        });
    }

    /// <summary>Decodes a whole datagram or throws <see cref="DhcpFormatException"/> (the only exception it throws).</summary>
    public static DhcpPacket Decode(ReadOnlySpan<byte> data)
    {
        if (!TryDecode(data, out var packet, out var error))
            ThrowHelper.ThrowFormat(error);
        return packet;
    }

    /// <summary>Decodes a whole datagram; on failure says whether bytes were missing or wrong.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> data, [NotNullWhen(true)] out DhcpPacket? packet, out DhcpFormatError error)
    {
        packet = null;
        error = Validate(data);
        if (error != DhcpFormatError.None)
            return false;

        var p = new DhcpPacket
        {
            Op = data[OpOffset],
            HType = data[HTypeOffset],
            HLen = data[HLenOffset],
            Hops = data[HopsOffset],
            Xid = BinaryPrimitives.ReadUInt32BigEndian(data[XidOffset..]),
            Secs = BinaryPrimitives.ReadUInt16BigEndian(data[SecsOffset..]),
            Flags = BinaryPrimitives.ReadUInt16BigEndian(data[FlagsOffset..]),
            Ciaddr = Ip4.Read(data[CiaddrOffset..]),
            Yiaddr = Ip4.Read(data[YiaddrOffset..]),
            Siaddr = Ip4.Read(data[SiaddrOffset..]),
            Giaddr = Ip4.Read(data[GiaddrOffset..]),
        };
        data.Slice(ChaddrOffset, ChaddrSize).CopyTo(p.Chaddr);

        error = ParseArea(data[OptionsOffset..], p.Options, allowOverload: true, out var overload);
        if (error == DhcpFormatError.None && (overload & OverloadFile) != 0)
            error = ParseArea(data.Slice(FileOffset, FileSize), p.Options, allowOverload: false, out _);
        if (error == DhcpFormatError.None && (overload & OverloadSname) != 0)
            error = ParseArea(data.Slice(SnameOffset, SnameSize), p.Options, allowOverload: false, out _);
        if (error == DhcpFormatError.None)
            error = ValidateOptions(p.Options);
        if (error != DhcpFormatError.None)
            return false;

        if ((overload & OverloadFile) == 0)
            data.Slice(FileOffset, FileSize).CopyTo(p.File);
        if ((overload & OverloadSname) == 0)
            data.Slice(SnameOffset, SnameSize).CopyTo(p.Sname);
        packet = p;
        return true;
    }

    /// <summary>Bytes <see cref="Encode"/> writes.</summary>
    public int EncodedLength => Math.Max(OptionsOffset + Options.EncodedLength, MinimumReplySize);

    /// <summary>Encodes into <paramref name="destination"/> (zero-padded to 300 bytes); returns bytes written.</summary>
    public int Encode(Span<byte> destination)
    {
        var length = EncodedLength;
        if (destination.Length < length)
            ThrowHelper.ThrowDestinationTooSmall(length);
        var d = destination[..length];
        d.Clear();
        d[OpOffset] = Op;
        d[HTypeOffset] = HType;
        d[HLenOffset] = HLen;
        d[HopsOffset] = Hops;
        BinaryPrimitives.WriteUInt32BigEndian(d[XidOffset..], Xid);
        BinaryPrimitives.WriteUInt16BigEndian(d[SecsOffset..], Secs);
        BinaryPrimitives.WriteUInt16BigEndian(d[FlagsOffset..], Flags);
        Ciaddr.Write(d[CiaddrOffset..]);
        Yiaddr.Write(d[YiaddrOffset..]);
        Siaddr.Write(d[SiaddrOffset..]);
        Giaddr.Write(d[GiaddrOffset..]);
        Chaddr.CopyTo(d[ChaddrOffset..]);
        // The last byte of sname and file stays zero so both are always NUL-terminated.
        Sname.AsSpan(0, SnameSize - 1).CopyTo(d[SnameOffset..]);
        File.AsSpan(0, FileSize - 1).CopyTo(d[FileOffset..]);
        BinaryPrimitives.WriteUInt32BigEndian(d[MagicCookieOffset..], MagicCookie);
        Options.Encode(d[OptionsOffset..]);
        return length;
    }

    public byte[] ToArray()
    {
        var bytes = new byte[EncodedLength];
        Encode(bytes);
        return bytes;
    }

    private static DhcpFormatError Validate(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxPacketSize)
            return DhcpFormatError.TooLarge;
        if (data.Length < OptionsOffset)
            return DhcpFormatError.Truncated;
        if (data[OpOffset] is not (OpBootRequest or OpBootReply))
            return DhcpFormatError.BadOp;
        if (data[HLenOffset] > ChaddrSize)
            return DhcpFormatError.BadHardwareLength;
        if (data[HopsOffset] > MaxHops)
            return DhcpFormatError.TooManyHops;
        if (BinaryPrimitives.ReadUInt32BigEndian(data[MagicCookieOffset..]) != MagicCookie)
            return DhcpFormatError.MissingMagicCookie;
        return DhcpFormatError.None;
    }

    /// <summary>Reads one options area. The main area must end with End (else it was cut short); an overloaded
    /// sname/file field is fixed-size, so a missing End there is malformed.</summary>
    private static DhcpFormatError ParseArea(ReadOnlySpan<byte> area, DhcpOptions options, bool allowOverload, out byte overload)
    {
        overload = 0;
        var incomplete = allowOverload ? DhcpFormatError.OptionsTruncated : DhcpFormatError.BadOverload;
        var i = 0;
        while (i < area.Length)
        {
            var code = area[i];
            if (code == (byte)DhcpOptionCode.Pad)
            {
                i++;
                continue;
            }
            if (code == (byte)DhcpOptionCode.End)
                return DhcpFormatError.None;
            if (i + 1 >= area.Length)
                return incomplete;
            var length = area[i + 1];
            if (i + 2 + length > area.Length)
                return incomplete;
            var value = area.Slice(i + 2, length);
            if (code == (byte)DhcpOptionCode.Overload)
            {
                if (!allowOverload || length != 1 || value[0] is < OverloadFile or > OverloadBoth || overload != 0)
                    return DhcpFormatError.BadOverload;
                overload = value[0];
            }
            else
            {
                options.Append(code, value);
            }
            i += 2 + length;
        }
        return incomplete;
    }

    private static DhcpFormatError ValidateOptions(DhcpOptions options)
    {
        if (!options.TryGet(DhcpOptionCode.MessageType, out var type))
            return DhcpFormatError.MissingMessageType;
        if (type.Length != 1)
            return DhcpFormatError.BadOptionLength;
        if (type[0] is < (byte)DhcpMessageType.Discover or > (byte)DhcpMessageType.Inform)
            return DhcpFormatError.BadMessageType;
        if (!HasLength(options, DhcpOptionCode.RequestedIpAddress, 4) || !HasLength(options, DhcpOptionCode.ServerIdentifier, 4)
            || !HasLength(options, DhcpOptionCode.LeaseTime, 4) || !HasLength(options, DhcpOptionCode.MaxMessageSize, 2))
            return DhcpFormatError.BadOptionLength;
        // A client identifier is a type byte plus at least one byte of identity (RFC 2132 section 9.14).
        if (options.TryGet(DhcpOptionCode.ClientIdentifier, out var clientId) && clientId.Length < 2)
            return DhcpFormatError.BadOptionLength;
        if (options.TryGet(DhcpOptionCode.ClientSystemArchitecture, out var arch) && (arch.Length < 2 || arch.Length % 2 != 0))
            return DhcpFormatError.BadOptionLength;
        return DhcpFormatError.None;
    }

    private static bool HasLength(DhcpOptions options, DhcpOptionCode code, int length) =>
        !options.TryGet(code, out var value) || value.Length == length;

    private static string ReadCString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        var text = end < 0 ? field : field[..end];
        return Encoding.ASCII.GetString(text);
    }

    private static void WriteCString(Span<byte> field, string value)
    {
        field.Clear();
        var bytes = Encoding.ASCII.GetBytes(value);
        if (bytes.Length > field.Length - 1)
            throw new ArgumentException($"'{value}' is longer than the {field.Length - 1} bytes the field holds.", nameof(value));
        bytes.CopyTo(field);
    }
}
