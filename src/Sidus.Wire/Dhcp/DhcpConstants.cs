namespace Sidus.Wire.Dhcp;

/// <summary>Offsets, sizes and limits of the BOOTP/DHCP wire format (RFC 951, RFC 2131 section 2, RFC 2132).</summary>
public static class DhcpConstants
{
    public const int OpOffset = 0;
    public const int HTypeOffset = 1;
    public const int HLenOffset = 2;
    public const int HopsOffset = 3;
    public const int XidOffset = 4;
    public const int SecsOffset = 8;
    public const int FlagsOffset = 10;
    public const int CiaddrOffset = 12;
    public const int YiaddrOffset = 16;
    public const int SiaddrOffset = 20;
    public const int GiaddrOffset = 24;
    public const int ChaddrOffset = 28;
    public const int ChaddrSize = 16;
    public const int SnameOffset = 44;
    public const int SnameSize = 64;
    public const int FileOffset = 108;
    public const int FileSize = 128;
    public const int MagicCookieOffset = 236;
    public const int OptionsOffset = 240;

    /// <summary>The fixed header (up to and including the file field).</summary>
    public const int HeaderSize = MagicCookieOffset;

    /// <summary>The magic cookie 99.130.83.99 that marks a DHCP (not plain BOOTP) options area.</summary>
    public const uint MagicCookie = 0x63825363;

    /// <summary>The smallest message a client must accept (RFC 2131 section 2); replies are padded to a BOOTP-sized 300 bytes.</summary>
    public const int MinimumReplySize = 300;

    /// <summary>The largest datagram we read or write: an Ethernet MTU without fragments is plenty for DHCP.</summary>
    public const int MaxPacketSize = 1500;

    /// <summary>The broadcast bit of the flags field (RFC 2131 figure 2).</summary>
    public const ushort BroadcastFlag = 0x8000;

    /// <summary>Relays drop packets past 16 hops (RFC 1542 section 4.1.1); so do we.</summary>
    public const int MaxHops = 16;

    public const byte OpBootRequest = 1;
    public const byte OpBootReply = 2;
    public const byte HTypeEthernet = 1;
    public const byte EthernetAddressLength = 6;

    public const int ServerPort = 67;
    public const int ClientPort = 68;
    public const int PxeBootServerPort = 4011;

    /// <summary>Option overload (52) values: which header fields carry options (RFC 2132 section 9.3).</summary>
    public const byte OverloadFile = 1;
    public const byte OverloadSname = 2;
    public const byte OverloadBoth = 3;

    /// <summary>Longest value one option instance holds; longer values are split (RFC 3396).</summary>
    public const int MaxOptionChunk = 255;
}
