using System.Text;
using Sidus.Linux;
using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

/// <summary>Freezes "sidus-manifest 2": the exact text of a manifest with every kind of entry, its round trip, and a clear refusal of every malformed line.</summary>
public sealed class ManifestFormatTests
{
    private static readonly string ContentA = new('a', 64);
    private static readonly string ContentB = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// <summary>Every kind, an encoded name, xattrs, a sparse file, a file all holes (empty TARGET) and a hard-link pair, byte for byte.</summary>
    private const string Frozen =
        "sidus-manifest 2\n" +
        "d 755 0 0 1700000000 0 0 - 0 0 0 . - -\n" +
        "d 1777 0 0 1700000001 500 0 - 0 0 0 tmp - -\n" +
        "f 4755 0 0 1700000002 5 10 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0 0 0 tmp/a%20b%25%FF - security.capability=0100000200200000,user.a%2Cb%3D=\n" +
        "f 644 1000 100 -5 0 12288 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 0 0 0 sparse 0:4096,8192:4096 -\n" +
        "f 600 0 0 2 0 1073741824 0000000000000000000000000000000000000000000000000000000000000000 0 0 0 holes  -\n" +
        "f 644 0 0 3 0 4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 7 0 0 one - -\n" +
        "f 644 0 0 3 0 4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 7 0 0 two - -\n" +
        "l 777 0 0 4 0 0 - 0 0 0 lib usr/l%20ib -\n" +
        "c 666 0 0 5 0 0 - 0 1 3 null - -\n" +
        "b 660 0 6 6 0 0 - 0 8 1 sda1 - -\n" +
        "p 600 0 0 7 0 0 - 0 0 0 fifo - -\n";

    private static List<ManifestEntry> Entries() =>
    [
        new() { Kind = FileKind.Directory, Path = [], Mode = 0x1ED, MtimeSeconds = 1700000000 },
        new() { Kind = FileKind.Directory, Path = "tmp"u8.ToArray(), Mode = 0x3FF, MtimeSeconds = 1700000001, MtimeNanoseconds = 500 },
        new()
        {
            Kind = FileKind.Regular, Path = [.. "tmp/a b%"u8, 0xFF], Mode = 0x9ED, MtimeSeconds = 1700000002, MtimeNanoseconds = 5, Size = 10,
            Content = Convert.FromHexString(ContentA),
            Xattrs = [KeyValuePair.Create("security.capability"u8.ToArray(), new byte[] { 1, 0, 0, 2, 0, 0x20, 0, 0 }), KeyValuePair.Create("user.a,b="u8.ToArray(), Array.Empty<byte>())],
        },
        new()
        {
            Kind = FileKind.Regular, Path = "sparse"u8.ToArray(), Mode = 0x1A4, Uid = 1000, Gid = 100, MtimeSeconds = -5, Size = 12288,
            Content = Convert.FromHexString(ContentB), Extents = [new(0, 4096), new(8192, 4096)],
        },
        new() { Kind = FileKind.Regular, Path = "holes"u8.ToArray(), Mode = 0x180, MtimeSeconds = 2, Size = 1L << 30, Content = new byte[32], Extents = [] },
        new() { Kind = FileKind.Regular, Path = "one"u8.ToArray(), Mode = 0x1A4, MtimeSeconds = 3, Size = 4, Content = Convert.FromHexString(ContentA), LinkGroup = 7 },
        new() { Kind = FileKind.Regular, Path = "two"u8.ToArray(), Mode = 0x1A4, MtimeSeconds = 3, Size = 4, Content = Convert.FromHexString(ContentA), LinkGroup = 7 },
        new() { Kind = FileKind.Symlink, Path = "lib"u8.ToArray(), Mode = 0x1FF, MtimeSeconds = 4, Target = "usr/l ib"u8.ToArray() },
        new() { Kind = FileKind.CharDevice, Path = "null"u8.ToArray(), Mode = 0x1B6, MtimeSeconds = 5, Major = 1, Minor = 3 },
        new() { Kind = FileKind.BlockDevice, Path = "sda1"u8.ToArray(), Mode = 0x1B0, Gid = 6, MtimeSeconds = 6, Major = 8, Minor = 1 },
        new() { Kind = FileKind.Fifo, Path = "fifo"u8.ToArray(), Mode = 0x180, MtimeSeconds = 7 },
    ];

    [Fact]
    public void Write_EveryKind_ExactBytes()
    {
        using var output = new MemoryStream();
        Assert.Equal(11, ManifestWriter.Write(output, Entries()));
        Assert.Equal(Frozen, Encoding.ASCII.GetString(output.ToArray()));
    }

    [Fact]
    public void Parse_FrozenText_GivesTheEntriesBack()
    {
        var parsed = ManifestReader.Parse(Frozen);
        var expected = Entries();
        Assert.Equal(expected.Count, parsed.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(ManifestWriter.Line(expected[i]), ManifestWriter.Line(parsed[i]));
        }

        Assert.Equal("tmp/a b%"u8.ToArray().Append((byte)0xFF), parsed[2].Path);
        Assert.Equal("user.a,b=", Encoding.ASCII.GetString(parsed[2].Xattrs[1].Key));
        Assert.Empty(parsed[2].Xattrs[1].Value);
        Assert.Equal(0x9EDu, parsed[2].Mode);
        Assert.Equal(new[] { new ManifestExtent(0, 4096), new ManifestExtent(8192, 4096) }, parsed[3].Extents!);
        Assert.Equal(8192, parsed[3].DataLength);
        Assert.Null(parsed[3].Target);
        Assert.Equal((0L, 1L << 30), (parsed[4].DataLength, parsed[4].Size));
        Assert.Empty(parsed[4].Extents!);
        Assert.Equal("usr/l ib"u8.ToArray(), parsed[7].Target);
        Assert.Equal((FileKind.BlockDevice, 8u, 1u), (parsed[9].Kind, parsed[9].Major, parsed[9].Minor));
        Assert.Empty(parsed[0].Path);
    }

    [Fact]
    public void RoundTrip_EveryByteInNamesAndXattrNames_Survives()
    {
        var name = Enumerable.Range(1, 255).Where(b => b != '/').Select(b => (byte)b).ToArray();
        var entry = new ManifestEntry
        {
            Kind = FileKind.Symlink, Path = name, Target = Enumerable.Range(1, 255).Select(b => (byte)b).ToArray(),
            Xattrs = [KeyValuePair.Create(name, new byte[] { 0, 255 })],
        };
        var back = ManifestReader.ParseLine(ManifestWriter.Line(entry));
        Assert.Equal(name, back.Path);
        Assert.Equal(entry.Target, back.Target);
        Assert.Equal(name, back.Xattrs[0].Key);
        Assert.Equal(new byte[] { 0, 255 }, back.Xattrs[0].Value);
        Assert.DoesNotContain(' ', ManifestWriter.Line(entry).Split(' ')[11]);
    }

    [Theory]
    [InlineData("", "first line '', expected 'sidus-manifest 2'")]
    [InlineData("not-a-manifest\n", "first line 'not-a-manifest'")]
    [InlineData("sidus-manifest 1\nd 755 0 0 1 0 0 - 0 0 0 . - -\n", "first line 'sidus-manifest 1'")]
    [InlineData("sidus-manifest 2\nd 755 0 0\n", "line 2 is invalid: 4 fields, expected 14")]
    [InlineData("sidus-manifest 2\nd 755 0 0 1 0 0 - 0 0 0 . - - x\n", "line 2 is invalid: 15 fields")]
    [InlineData("sidus-manifest 2\ns 755 0 0 1 0 0 - 0 0 0 . - -\n", "unknown kind 's'")]
    [InlineData("sidus-manifest 2\ndd 755 0 0 1 0 0 - 0 0 0 . - -\n", "unknown kind 'dd'")]
    [InlineData("sidus-manifest 2\nd 799 0 0 1 0 0 - 0 0 0 . - -\n", "mode '799'")]
    [InlineData("sidus-manifest 2\nd 17777 0 0 1 0 0 - 0 0 0 . - -\n", "mode 17777 has more than permission bits")]
    [InlineData("sidus-manifest 2\nd 755 -1 0 1 0 0 - 0 0 0 . - -\n", "uid '-1'")]
    [InlineData("sidus-manifest 2\nd 755 0 x 1 0 0 - 0 0 0 . - -\n", "gid 'x'")]
    [InlineData("sidus-manifest 2\nd 755 0 0 1.5 0 0 - 0 0 0 . - -\n", "mtime '1.5'")]
    [InlineData("sidus-manifest 2\nd 755 0 0 1 4294967296 0 - 0 0 0 . - -\n", "mtime nanoseconds '4294967296'")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 -1 - 0 0 0 a - -\n", "size '-1'")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 zz 0 0 0 a - -\n", "content id 'zz'")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 aaaa 0 0 0 a - -\n", "content id 'aaaa': not 64 hex digits")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - x 0 0 a - -\n", "link group 'x'")]
    [InlineData("sidus-manifest 2\nc 644 0 0 1 0 0 - 0 x 0 a - -\n", "major 'x'")]
    [InlineData("sidus-manifest 2\nc 644 0 0 1 0 0 - 0 0 x a - -\n", "minor 'x'")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 a% - -\n", "path 'a%': truncated %XX escape")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 a%zz - -\n", "path 'a%zz'")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 \u00e9 - -\n", "must be %-escaped")]
    [InlineData("sidus-manifest 2\nl 777 0 0 1 0 0 - 0 0 0 lib - -\n", "a symlink without a target")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 a 0-4 -\n", "extents '0-4': extent '0-4' is not OFFSET:LENGTH")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 a 0:x -\n", "extents '0:x'")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 a - =00\n", "extended attributes '=00': '=00' is not NAME=VALUE")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 a - user.x\n", "is not NAME=VALUE")]
    [InlineData("sidus-manifest 2\nf 644 0 0 1 0 1 - 0 0 0 a - user.x=0g\n", "extended attributes 'user.x=0g'")]
    [InlineData("sidus-manifest 2\nd 755 0 0 1 0 0 - 0 0 0 . - -\nf 644\n", "line 3 is invalid")]
    public void Parse_Malformed_RefusedWithLineAndReason(string text, string why)
    {
        var e = Assert.Throws<InvalidDataException>(() => ManifestReader.Parse(text));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EveryPrefixOfAValidManifest_IsRefusedOrAWholeLinePrefix()
    {
        // A manifest cut anywhere is either refused or parses to the lines it holds whole: never a half-read entry.
        for (var n = 0; n <= Frozen.Length; n++)
        {
            var prefix = Frozen[..n];
            try
            {
                var parsed = ManifestReader.Parse(prefix);
                var lines = prefix.Split('\n').Skip(1).Where(l => l.Length > 0).ToList();
                Assert.Equal(lines, parsed.Select(ManifestWriter.Line));
            }
            catch (InvalidDataException)
            {
            }
        }
    }
}
