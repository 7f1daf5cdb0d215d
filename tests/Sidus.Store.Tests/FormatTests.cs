using Sidus.Linux;
using Sidus.Store.Chunking;
using Sidus.Store.Objects;
using Sidus.Store.Packs;
using Sidus.Store.Trees;

namespace Sidus.Store.Tests;

/// <summary>
/// Freezes the on-disk format: if one of these fails, stores written by earlier versions no longer read the same.
/// Change them only together with a format version bump and a migration.
/// </summary>
public sealed class FormatTests
{
    [Fact]
    public void Sha256_KnownAnswer()
    {
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ObjectId.Hash("abc"u8).ToString());
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ObjectId.Hash([]).ToString());
    }

    [Fact]
    public void PersistedEnums_KeepTheirValues()
    {
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], Enum.GetValues<FileKind>().Select(k => (int)k));
        Assert.Equal(["Regular", "Directory", "Symlink", "CharDevice", "BlockDevice", "Fifo", "Socket"], Enum.GetNames<FileKind>());
        Assert.Equal([1, 2, 3, 4], Enum.GetValues<ObjectKind>().Select(k => (int)k));
        Assert.Equal(["Blob", "Tree", "Commit", "ChunkList"], Enum.GetNames<ObjectKind>());
        Assert.Equal("SIDUSPK\u0001"u8.ToArray(), PackFormat.PackMagic.ToArray());
        Assert.Equal("SIDUSIX\u0001"u8.ToArray(), PackFormat.IndexMagic.ToArray());
        Assert.Equal(57, PackFormat.IndexRecordLength);
        Assert.Equal("sidus-store 1", Repository.FormatLine);
    }

    [Fact]
    public void FastCdc_CutPoints_KnownAnswer()
    {
        var cuts = Cuts(XorShiftBytes(1 << 20));
        Assert.Equal([70906, 89661, 62664, 91652, 50786, 112814, 80632, 27519, 65513, 68361, 123550, 86158, 92761, 25599], cuts);
    }

    [Fact]
    public void FastCdc_ChunksRespectTheBounds()
    {
        var cuts = Cuts(XorShiftBytes(8 << 20));
        Assert.All(cuts[..^1], c => Assert.InRange(c, FastCdc.MinSize, FastCdc.MaxSize));
        Assert.Equal(8 << 20, cuts.Sum());
        Assert.Equal(FastCdc.MaxSize, Cuts(new byte[1 << 20])[0]);
    }

    [Fact]
    public void FastCdc_AnInsertion_LeavesMostChunksShared()
    {
        var data = XorShiftBytes(4 << 20);
        var edited = data[..1_000_000].Concat(new byte[] { 1, 2, 3 }).Concat(data[1_000_000..]).ToArray();
        var before = ChunkIds(data);
        var after = ChunkIds(edited);
        var shared = after.Count(before.Contains);
        Assert.True(shared >= after.Count - 3, $"{shared} of {after.Count} chunks shared after a 3-byte insertion");
    }

    [Fact]
    public void TreeEncoding_IsFrozen()
    {
        var encoded = TreeCodec.Encode(SampleEntries());
        Assert.Equal(
            "01050362696e03ff03000080c49fd50c050000077573722f62696e0365746302ed03000001ff93ebdc03002d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a48810466696c6501ed13e8076402000106757365722e610200ff0105002cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824046e756c6c04b60300000000000001030673706172736501a4030000000000008080808004028020043a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7",
            Convert.ToHexStringLower(encoded));
        Assert.Equal("9ad5cfcfff3280d4e235608f8b41cafaf1a84dc9f1e5d054edf858ede60a7a46", ObjectId.Hash(encoded).ToString());
    }

    [Fact]
    public void TreeEncoding_RoundTrips()
    {
        var encoded = TreeCodec.Encode(SampleEntries());
        var decoded = TreeCodec.Decode(encoded);
        Assert.Equal(encoded, TreeCodec.Encode(decoded));
        Assert.Equal("usr/bin"u8.ToArray(), decoded[0].Target);
        Assert.Equal([new Extent(4096, 4)], decoded[4].Extents);
        Assert.Equal(-1, decoded[1].MtimeSeconds);
    }

    [Fact]
    public void TreeDecoding_RejectsEveryTruncation()
    {
        var encoded = TreeCodec.Encode(SampleEntries());
        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.Throws<CorruptObjectException>(() => TreeCodec.Decode(encoded.AsSpan(0, length)));
        }
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b")]
    [InlineData("")]
    public void TreeDecoding_RejectsNamesThatAreNotOneComponent(string name)
    {
        var w = new Sidus.Store.Formats.ByteWriter();
        w.Byte(TreeCodec.FormatVersion);
        w.Varint(1);
        TreeCodec.WriteEntry(w, new TreeEntry { Name = System.Text.Encoding.ASCII.GetBytes(name), Kind = FileKind.Fifo });
        Assert.Throws<CorruptObjectException>(() => TreeCodec.Decode(w.WrittenSpan));
    }

    [Fact]
    public void TreeDecoding_RejectsRandomDamage_WithoutOtherExceptions()
    {
        var encoded = TreeCodec.Encode(SampleEntries());
        var random = new Random(1);
        for (var i = 0; i < 2000; i++)
        {
            var copy = encoded.ToArray();
            copy[random.Next(copy.Length)] = (byte)random.Next(256);
            try
            {
                TreeCodec.Decode(copy);
            }
            catch (CorruptObjectException)
            {
            }
        }
    }

    [Fact]
    public void PackIndex_RoundTrips_AndDetectsDamage()
    {
        var records = new[]
        {
            new IndexRecord(ObjectId.Hash("a"u8), ObjectKind.Blob, 8, 100, 200, 0, 50),
            new IndexRecord(ObjectId.Hash("b"u8), ObjectKind.Tree, 108, 10, 20, 5, 15),
        }.OrderBy(r => r.Id).ToList();
        var encoded = PackFormat.EncodeIndex(records);
        Assert.Equal(records, PackFormat.DecodeIndex(encoded, "test"));
        encoded[20] ^= 1;
        Assert.Throws<CorruptObjectException>(() => PackFormat.DecodeIndex(encoded, "test"));
    }

    internal static List<TreeEntry> SampleEntries() =>
    [
        new() { Name = "bin"u8.ToArray(), Kind = FileKind.Symlink, Permissions = 0x1ff, MtimeSeconds = 1700000000, MtimeNanoseconds = 5, Target = "usr/bin"u8.ToArray() },
        new() { Name = "etc"u8.ToArray(), Kind = FileKind.Directory, Permissions = 0x1ed, MtimeSeconds = -1, MtimeNanoseconds = 999999999, Tree = ObjectId.Hash("x"u8) },
        new() { Name = "file"u8.ToArray(), Kind = FileKind.Regular, Permissions = 0x9ed, Uid = 1000, Gid = 100, MtimeSeconds = 1, Size = 5, Content = ObjectId.Hash("hello"u8), LinkGroup = 1, Xattrs = [new("user.a"u8.ToArray(), [0, 255])] },
        new() { Name = "null"u8.ToArray(), Kind = FileKind.CharDevice, Permissions = 0x1b6, RdevMajor = 1, RdevMinor = 3 },
        new() { Name = "sparse"u8.ToArray(), Kind = FileKind.Regular, Permissions = 0x1a4, Size = 1 << 30, Extents = [new Extent(4096, 4)], Content = ObjectId.Hash("data"u8) },
    ];

    internal static byte[] XorShiftBytes(int length)
    {
        var data = new byte[length];
        var x = 0x9E3779B97F4A7C15UL;
        for (var i = 0; i < data.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            data[i] = (byte)x;
        }

        return data;
    }

    private static List<int> Cuts(byte[] data)
    {
        var cuts = new List<int>();
        for (var at = 0; at < data.Length;)
        {
            var n = FastCdc.NextCut(data.AsSpan(at));
            cuts.Add(n);
            at += n;
        }

        return cuts;
    }

    private static HashSet<ObjectId> ChunkIds(byte[] data)
    {
        using var chunker = new Chunker(new MemoryStream(data));
        var ids = new HashSet<ObjectId>();
        for (var c = chunker.Next(); !c.IsEmpty; c = chunker.Next())
        {
            ids.Add(ObjectId.Hash(c.Span));
        }

        return ids;
    }
}
