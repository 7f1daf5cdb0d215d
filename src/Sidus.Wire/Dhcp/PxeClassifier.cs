namespace Sidus.Wire.Dhcp;

/// <summary>Reads what kind of network-boot client sent a request.</summary>
internal static class PxeClassifier
{
    private static ReadOnlySpan<byte> IpxeUserClass => "iPXE"u8;

    /// <summary>The architecture field of a PXE vendor class: "PXEClient:Arch:00007:UNDI:003016" (PXE 2.1, RFC 4578 section 2.1).</summary>
    private const string VendorArchMarker = ":Arch:";
    private const int VendorArchDigits = 5;

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
        // Option 93 is the authority; some UEFI firmware leaves it out and says the architecture only in its vendor class.
        ushort? arch = options.TryGet(DhcpOptionCode.ClientSystemArchitecture, out var archBytes) && archBytes.Length >= 2
            ? BinaryPrimitives.ReadUInt16BigEndian(archBytes)
            : isPxe ? VendorArchitecture(vendor!) : null;
        // iPXE sends user class "iPXE" raw (not RFC 3004 length-prefixed) and its own option 175.
        var isIpxe = (options.TryGet(DhcpOptionCode.UserClass, out var userClass) && userClass.SequenceEqual(IpxeUserClass))
            || options.Contains(DhcpOptionCode.IpxeEncapsulated);
        return new DhcpClientInfo(request.ClientMac, arch, isPxe, isIpxe, vendor, options.GetString(DhcpOptionCode.HostName), request.Giaddr);
    }

    /// <summary>The five-digit architecture after ":Arch:" in a vendor class, or null when there is none.</summary>
    public static ushort? VendorArchitecture(string vendor)
    {
        var at = vendor.IndexOf(VendorArchMarker, StringComparison.Ordinal);
        if (at < 0 || vendor.Length < at + VendorArchMarker.Length + VendorArchDigits)
            return null;
        var digits = vendor.AsSpan(at + VendorArchMarker.Length, VendorArchDigits);
        return ushort.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var arch) ? arch : null;
    }

    public static bool IsHttpBoot(DhcpClientInfo client) =>
        client.VendorClass?.StartsWith("HTTPClient", StringComparison.Ordinal) == true;
}
