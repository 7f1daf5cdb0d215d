namespace Sidus.Wire.Dhcp;

/// <summary>Fuzz target (SharpFuzz or a test loop): decoding any bytes either succeeds, and then re-encodes and
/// decodes again, or fails with <see cref="DhcpFormatException"/>. Any other exception is a bug.</summary>
public static class DhcpFuzz
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        DhcpPacket packet;
        try
        {
            packet = DhcpPacket.Decode(data);
        }
        catch (DhcpFormatException)
        {
            return;
        }
        _ = packet.ClientMac;
        _ = packet.FileName;
        var encoded = packet.ToArray();
        var again = DhcpPacket.Decode(encoded);
        if (again.MessageType != packet.MessageType || again.Xid != packet.Xid)
            throw new InvalidOperationException("Re-encoding a decoded packet changed it.");
    }
}
