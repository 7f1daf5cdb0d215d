namespace Sidus.Wire.Ipv6;

/// <summary>
/// The ICMPv6 messages of router discovery (RFC 4861 section 4.1 and 4.2) that <see cref="NoRouterAdvertiser"/>
/// reads and writes. The kernel fills in the checksum of a raw ICMPv6 socket's messages (RFC 3542 section 3.1).
/// </summary>
public static class RouterAdvertisement
{
    public const byte RouterSolicitationType = 133;
    public const byte RouterAdvertisementType = 134;

    /// <summary>Type, code, checksum, reserved: a solicitation's fixed part.</summary>
    public const int SolicitationLength = 8;

    /// <summary>Type, code, checksum, current hop limit, flags, router lifetime, reachable time, retransmit timer.</summary>
    public const int AdvertisementLength = 16;

    private const int RouterLifetimeOffset = 6;

    /// <summary>Whether MESSAGE is a well-formed router solicitation (code 0, at least its fixed part).</summary>
    public static bool IsSolicitation(ReadOnlySpan<byte> message) =>
        message.Length >= SolicitationLength && message[0] == RouterSolicitationType && message[1] == 0;

    /// <summary>
    /// An advertisement that configures nothing: router lifetime 0 (not a default router), no managed/other flags,
    /// no prefix, hop limit and timers unspecified. A host learns only that router discovery is over.
    /// </summary>
    public static byte[] NothingToConfigure()
    {
        var message = new byte[AdvertisementLength];
        message[0] = RouterAdvertisementType;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(RouterLifetimeOffset), 0);
        return message;
    }
}
