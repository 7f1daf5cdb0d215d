using System.Text;

namespace Sidus.Store.Tests.Formats;

/// <summary>
/// Hand-made ustar archives for hostile-input tests, written field by field here (not with the code under test),
/// so the archive can say things no well-behaved tar program would.
/// </summary>
public static class RawTar
{
    public const byte Regular = (byte)'0';
    public const byte HardLink = (byte)'1';
    public const byte Symlink = (byte)'2';
    public const byte Directory = (byte)'5';

    public static byte[] Build(params (string Name, byte Type, string Data, string Link)[] members)
    {
        var output = new MemoryStream();
        foreach (var (name, type, data, link) in members)
        {
            var bytes = Encoding.UTF8.GetBytes(data);
            output.Write(Header(name, type, bytes.Length, link));
            output.Write(bytes);
            output.Write(new byte[(512 - bytes.Length % 512) % 512]);
        }

        output.Write(new byte[1024]);
        return output.ToArray();
    }

    public static byte[] Header(string name, byte type, long size, string link = "")
    {
        var h = new byte[512];
        Encoding.UTF8.GetBytes(name).CopyTo(h, 0);
        Octal(h, 100, 8, type == Directory ? 0x1ED : 0x1A4);
        Octal(h, 108, 8, 0);
        Octal(h, 116, 8, 0);
        Octal(h, 124, 12, size);
        Octal(h, 136, 12, 1_600_000_000);
        h[156] = type;
        Encoding.UTF8.GetBytes(link).CopyTo(h, 157);
        "ustar\0"u8.CopyTo(h.AsSpan(257));
        "00"u8.CopyTo(h.AsSpan(263));
        "        "u8.CopyTo(h.AsSpan(148));
        var sum = h.Sum(b => (long)b);
        Octal(h, 148, 7, sum);
        return h;
    }

    private static void Octal(byte[] h, int offset, int length, long value) =>
        Encoding.ASCII.GetBytes(Convert.ToString(value, 8).PadLeft(length - 1, '0')).CopyTo(h, offset);
}
