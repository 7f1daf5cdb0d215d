namespace Sidus.Wire.Nbd;

/// <summary>
/// Magic numbers, wire lengths and the limits Sidus enforces for the NBD protocol (fixed newstyle handshake,
/// simple replies). Field layouts follow the NBD protocol document (github.com/NetworkBlockDevice/nbd, doc/proto.md).
/// Everything on the wire is big-endian.
/// </summary>
public static class NbdProtocol
{
    /// <summary>"NBDMAGIC": the first 8 bytes the server sends.</summary>
    public const ulong InitMagic = 0x4E42444D41474943;

    /// <summary>"IHAVEOPT": newstyle marker in the greeting and the first field of every option request.</summary>
    public const ulong OptionMagic = 0x49484156454F5054;

    /// <summary>First field of every option reply.</summary>
    public const ulong OptionReplyMagic = 0x0003E889045565A9;

    /// <summary>First field of every transmission request.</summary>
    public const uint RequestMagic = 0x25609513;

    /// <summary>First field of every simple reply.</summary>
    public const uint SimpleReplyMagic = 0x67446698;

    /// <summary>Greeting: init magic (8), option magic (8), handshake flags (2).</summary>
    public const int GreetingLength = 18;

    /// <summary>The client's answer to the greeting: its flags (4).</summary>
    public const int ClientFlagsLength = 4;

    /// <summary>Option request header: magic (8), option (4), data length (4); the data follows.</summary>
    public const int OptionHeaderLength = 16;
    public const int OptionHeaderOptionOffset = 8;
    public const int OptionHeaderLengthOffset = 12;

    /// <summary>Option reply header: magic (8), option (4), reply type (4), data length (4); the data follows.</summary>
    public const int OptionReplyHeaderLength = 20;

    /// <summary>NBD_OPT_EXPORT_NAME's answer: export size (8), transmission flags (2), then 124 zeros unless NO_ZEROES.</summary>
    public const int ExportNameReplyLength = 10;
    public const int ExportNameReplyZeros = 124;

    /// <summary>NBD_INFO_EXPORT: info type (2), export size (8), transmission flags (2).</summary>
    public const int InfoExportLength = 12;

    /// <summary>NBD_INFO_BLOCK_SIZE: info type (2), minimum (4), preferred (4), maximum (4).</summary>
    public const int InfoBlockSizeLength = 14;

    /// <summary>Request: magic (4), command flags (2), type (2), cookie (8), offset (8), length (4).</summary>
    public const int RequestLength = 28;
    public const int RequestFlagsOffset = 4;
    public const int RequestTypeOffset = 6;
    public const int RequestCookieOffset = 8;
    public const int RequestOffsetOffset = 16;
    public const int RequestLengthOffset = 24;

    /// <summary>Simple reply: magic (4), error (4), cookie (8); a successful read's data follows.</summary>
    public const int SimpleReplyLength = 16;

    /// <summary>The protocol's limit on export names and other strings (NBD_MAX_STRING).</summary>
    public const int MaxStringLength = 4096;

    /// <summary>
    /// Largest option data accepted. NBD_OPT_GO/INFO carry a name (4 + 4096) and a few 2-byte info requests; nothing
    /// Sidus supports needs more, so a longer option is a hostile or broken client: refused and disconnected.
    /// </summary>
    public const int MaxOptionLength = 4 + MaxStringLength + 2 + (2 * MaxInfoRequests);

    /// <summary>Most information requests one NBD_OPT_GO/INFO may list (there are four info types).</summary>
    public const int MaxInfoRequests = 64;

    /// <summary>Options one client may send before the server hangs up (a client negotiates a handful).</summary>
    public const int MaxOptionsPerConnection = 64;

    /// <summary>Largest read or write payload served (advertised as the maximum block size): 32 MiB, as nbdkit.</summary>
    public const int MaxRequestLength = 32 * 1024 * 1024;

    /// <summary>Block sizes advertised through NBD_INFO_BLOCK_SIZE: any byte, 4 KiB preferred.</summary>
    public const int MinimumBlockSize = 1;
    public const int PreferredBlockSize = 4096;

    /// <summary>Default TCP port registered for NBD.</summary>
    public const int DefaultPort = 10809;
}
