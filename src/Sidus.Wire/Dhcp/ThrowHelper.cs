namespace Sidus.Wire.Dhcp;

internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowFormat(DhcpFormatError error) => throw new DhcpFormatException(error);

    [DoesNotReturn]
    public static void ThrowDestinationTooSmall(int needed) =>
        throw new ArgumentException($"The destination needs at least {needed} bytes.", "destination");
}
