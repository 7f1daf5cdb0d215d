using Sidus.Linux;
using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

/// <summary>Freezes the routes, the batch frame and the batch plan that the server and the node agent share.</summary>
public sealed class ContentRoutesTests
{
    private const string Version = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public void Routes_AreTheFrozenStrings()
    {
        Assert.Equal("/api/versions/{version}/manifest", ContentRoutes.Manifest);
        Assert.Equal("/api/content/{id}", ContentRoutes.Content);
        Assert.Equal("/api/versions/{version}/batch/1/{index}", ContentRoutes.Batch);
        Assert.Equal("X-Sidus-Manifest-Sha256", ContentRoutes.ManifestHashHeader);
        Assert.Equal("private, max-age=31536000, immutable", ContentRoutes.ImmutableCaching);
        Assert.Equal($"/api/versions/{Version}/manifest", ContentRoutes.ManifestOf(Version));
        Assert.Equal($"/api/content/{Version}", ContentRoutes.ContentOf(Version));
        Assert.Equal($"/api/versions/{Version}/batch/1/12", ContentRoutes.BatchOf(Version, 12));
        Assert.Equal($"\"{Version}.1.12\"", ContentRoutes.BatchETag(Version, 12));
    }

    [Fact]
    public void Frame_Header_IsIdThenBigEndianLength()
    {
        var id = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var header = new byte[ContentBatchFrame.HeaderLength];
        ContentBatchFrame.WriteHeader(header, id, 0x0102030405);
        Assert.Equal("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" + "0000000102030405", Convert.ToHexStringLower(header));
        var (readId, length) = ContentBatchFrame.ReadHeader(header);
        Assert.Equal(id, readId);
        Assert.Equal(0x0102030405, length);
        Assert.Throws<InvalidDataException>(() => ContentBatchFrame.ReadHeader(header.AsSpan(0, 39)));
    }

    [Fact]
    public void Plan_DistinctContentsFirstOfLinkGroupsBySizeAndCount_IsFixed()
    {
        static byte[] Id(int n) => [.. Enumerable.Repeat((byte)n, 32)];
        static ManifestEntry File(string path, int id, long size, uint group = 0, IReadOnlyList<ManifestExtent>? extents = null) =>
            new() { Kind = FileKind.Regular, Path = System.Text.Encoding.ASCII.GetBytes(path), Size = size, Content = Id(id), LinkGroup = group, Extents = extents };
        var manifest = new List<ManifestEntry>
        {
            new() { Kind = FileKind.Directory, Path = [] },
            File("a", 1, 5L << 20),
            File("b", 1, 5L << 20),                 // same content: fetched once
            File("c", 2, 3L << 20, group: 4),       // 8 MiB: still the first batch
            File("d", 2, 3L << 20, group: 4),       // the group's second name carries no data
            File("e", 3, 1),                        // over 8 MiB: a new batch
            File("empty", 0, 0),                    // no data, no frame
            File("holes", 5, 1L << 30, extents: [new(0, 10), new(1L << 29, 6)]), // only its 16 data bytes count
            new() { Kind = FileKind.Symlink, Path = "l"u8.ToArray(), Target = "a"u8.ToArray() },
            File("huge", 6, 20L << 20),             // larger than a batch: one of its own
            File("f", 7, 1),
        };
        var plan = ContentBatchPlan.Make(manifest);
        Assert.Equal(
            ["01:5242880,02:3145728", "03:1,05:16", "06:20971520", "07:1"],
            plan.Select(b => string.Join(',', b.Select(i => $"{i.Content[0]:x2}:{i.Length}"))));
    }

    [Fact]
    public void Plan_ManySmallFiles_CutAtMaxFiles()
    {
        var manifest = Enumerable.Range(0, ContentBatchPlan.MaxFiles + 1).Select(n => new ManifestEntry
        {
            Kind = FileKind.Regular, Path = System.Text.Encoding.ASCII.GetBytes($"f{n}"), Size = 1,
            Content = [.. BitConverter.GetBytes(n), .. new byte[28]],
        });
        Assert.Equal([ContentBatchPlan.MaxFiles, 1], ContentBatchPlan.Make(manifest).Select(b => b.Count));
        Assert.Equal(512, ContentBatchPlan.MaxFiles);
        Assert.Equal(8L << 20, ContentBatchPlan.MaxBytes);
    }
}
