using System.Buffers.Binary;

namespace Sidus.Boot.Dhcp;

/// <summary>Reads what kind of network-boot client sent a request.</summary>
internal static class PxeClassifier
{
    private static ReadOnlySpan<byte> IpxeUserClass => "iPXE"u8;

    public static DhcpClientInfo Describe(DhcpPacket request, IReadOnlyList<string> pxePrefixes)
    {
        var options = request.Options;
        var vendor = options.GetString(DhcpOptionCode.VendorClassIdentifier);
        var isPxe = false;
        if (vendor is not null)
        {
            foreach (var prefix in pxePrefixes)
            {
                if (vendor.StartsWith(prefix, StringComparison.Ordinal))
                {
                    isPxe = true;
                    break;
                }
            }
        }
        ushort? arch = options.TryGet(DhcpOptionCode.ClientSystemArchitecture, out var archBytes) && archBytes.Length >= 2
            ? BinaryPrimitives.ReadUInt16BigEndian(archBytes)
            : null;
        // iPXE sends user class "iPXE" raw (not RFC 3004 length-prefixed) and its own option 175.
        var isIpxe = (options.TryGet(DhcpOptionCode.UserClass, out var userClass) && userClass.SequenceEqual(IpxeUserClass))
            || options.Contains(DhcpOptionCode.IpxeEncapsulated);
        return new DhcpClientInfo(request.ClientMac, arch, isPxe, isIpxe, vendor, options.GetString(DhcpOptionCode.HostName));
    }

    public static bool IsHttpBoot(DhcpClientInfo client) =>
        client.VendorClass?.StartsWith("HTTPClient", StringComparison.Ordinal) == true;
}
