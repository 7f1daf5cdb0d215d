using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Sidus.Store.Checkout;

namespace Sidus.Store.Tests.Formats;

public sealed class OciImportTests : IDisposable
{
    private readonly FormatFixture _f = new();

    public void Dispose() => _f.Dispose();

    /// <summary>
    /// An OCI layout written by hand: layer 1 (gzip) has etc/a, etc/b, dir/x, dir/sub/y, keep/z; layer 2 (zstd)
    /// whites out etc/a, makes dir opaque (adding dir/new), and adds etc/c.
    /// </summary>
    private (string Layout, string ConfigDigest, string[] LayerDigests) BuildLayout()
    {
        var l1 = _f.PathOf("l1");
        foreach (var (path, text) in new[] { ("etc/a", "a"), ("etc/b", "b"), ("dir/x", "x"), ("dir/sub/y", "y"), ("keep/z", "z") })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(l1, path))!);
            File.WriteAllText(Path.Combine(l1, path), text);
        }

        var l2 = _f.PathOf("l2");
        Directory.CreateDirectory(Path.Combine(l2, "etc"));
        Directory.CreateDirectory(Path.Combine(l2, "dir"));
        File.WriteAllText(Path.Combine(l2, "etc/.wh.a"), "");
        File.WriteAllText(Path.Combine(l2, "dir/.wh..wh..opq"), "");
        File.WriteAllText(Path.Combine(l2, "dir/new"), "new");
        File.WriteAllText(Path.Combine(l2, "etc/c"), "c");

        var layout = _f.PathOf("layout");
        Directory.CreateDirectory(Path.Combine(layout, "blobs/sha256"));
        var tar1 = _f.PathOf("l1.tar");
        var tar2 = _f.PathOf("l2.tar");
        FormatFixture.Run("tar", "--format=posix", "-cf", tar1, "-C", l1, ".");
        FormatFixture.Run("tar", "--format=posix", "-cf", tar2, "-C", l2, ".");
        var gz1 = Gzip(File.ReadAllBytes(tar1));
        FormatFixture.Run("zstd", "-q", "-f", tar2, "-o", tar2 + ".zst");
        var zst2 = File.ReadAllBytes(tar2 + ".zst");
        var layer1 = Blob(layout, gz1);
        var layer2 = Blob(layout, zst2);
        var config = Blob(layout, Encoding.UTF8.GetBytes(
            $$$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["{{{Digest(File.ReadAllBytes(tar1))}}}","{{{Digest(File.ReadAllBytes(tar2))}}}"]}}"""));
        var manifest = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{config}}","size":1},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{layer1}}","size":{{gz1.Length}}},
                       {"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"{{layer2}}","size":{{zst2.Length}}}]}
            """);
        var manifestDigest = Blob(layout, manifest);
        File.WriteAllText(Path.Combine(layout, "index.json"), $$"""
            {"schemaVersion":2,"manifests":[
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{manifestDigest}}","size":{{manifest.Length}},"platform":{"architecture":"arm64","os":"linux"} },
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{manifestDigest}}","size":{{manifest.Length}},"platform":{"architecture":"amd64","os":"linux"} }
            ]}
            """);
        File.WriteAllText(Path.Combine(layout, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        return (layout, config, [layer1, layer2]);
    }

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return output.ToArray();
    }

    private static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    private static string Blob(string layout, byte[] data)
    {
        var digest = Digest(data);
        File.WriteAllBytes(Path.Combine(layout, "blobs/sha256", digest[7..]), data);
        return digest;
    }

    private void AssertMergedTree(string spec)
    {
        var outDir = _f.PathOf("out-" + Guid.NewGuid().ToString("N"));
        _f.Images.Checkout(spec, outDir, new CheckoutOptions(), CancellationToken.None);
        var files = Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(outDir, p)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["dir/new", "etc/b", "etc/c", "keep/z"], files);
        Assert.False(Directory.Exists(Path.Combine(outDir, "dir/sub")));
        Assert.Equal("new", File.ReadAllText(Path.Combine(outDir, "dir/new")));
    }

    [Fact]
    public void Import_OciLayout_AppliesLayersWithWhiteoutsAndOpaqueDirectories()
    {
        var (layout, _, _) = BuildLayout();

        var version = _f.Images.Import("oci", layout, "oci", null, CancellationToken.None);

        Assert.True(version.Created);
        AssertMergedTree("oci");
    }

    [Fact]
    public void Import_LayerNotMatchingItsDigest_FailsWithoutAVersion()
    {
        var (layout, _, layers) = BuildLayout();
        var blob = Path.Combine(layout, "blobs/sha256", layers[0][7..]);
        var tampered = _f.PathOf("t.tar");
        File.WriteAllBytes(tampered, RawTar.Build(("etc/a", RawTar.Regular, "evil", "")));
        File.WriteAllBytes(blob, Gzip(File.ReadAllBytes(tampered)));

        var e = Assert.ThrowsAny<StoreException>(() => _f.Images.Import("oci", layout, "oci", null, CancellationToken.None));

        Assert.Contains(layers[0], e.Message, StringComparison.Ordinal);
        Assert.Null(_f.Repository.Refs.Head("oci"));
    }

    [Fact]
    public void Import_DockerSaveArchive_GivesTheSameTreeAsTheLayout()
    {
        var (layout, config, layers) = BuildLayout();
        File.WriteAllText(Path.Combine(layout, "manifest.json"),
            $$"""[{"Config":"blobs/sha256/{{config[7..]}}","RepoTags":["test:latest"],"Layers":["blobs/sha256/{{layers[0][7..]}}","blobs/sha256/{{layers[1][7..]}}"]}]""");
        var archive = _f.PathOf("image.tar");
        FormatFixture.Run("tar", "-cf", archive, "-C", layout, ".");
        var fromLayout = _f.Images.Import("layout", layout, "layout", null, CancellationToken.None);

        var fromArchive = _f.Images.Import("archive", archive, "archive", null, CancellationToken.None);

        Assert.Equal(fromLayout.Commit.Root.Tree, fromArchive.Commit.Root.Tree);
        AssertMergedTree("archive");
    }

    [Fact]
    public void Import_LegacyDockerSaveWithoutIndex_UsesManifestJsonAndDiffIds()
    {
        var (layout, config, layers) = BuildLayout();
        File.Delete(Path.Combine(layout, "index.json"));
        File.Delete(Path.Combine(layout, "oci-layout"));
        // The old layout: ID/layer.tar holding the uncompressed layer, checked against the config's diff_ids.
        var dir = _f.PathOf("legacy");
        Directory.CreateDirectory(Path.Combine(dir, "one"));
        Directory.CreateDirectory(Path.Combine(dir, "two"));
        File.Copy(_f.PathOf("l1.tar"), Path.Combine(dir, "one/layer.tar"));
        File.Copy(_f.PathOf("l2.tar"), Path.Combine(dir, "two/layer.tar"));
        File.Copy(Path.Combine(layout, "blobs/sha256", config[7..]), Path.Combine(dir, config[7..] + ".json"));
        File.WriteAllText(Path.Combine(dir, "manifest.json"),
            $$"""[{"Config":"{{config[7..]}}.json","RepoTags":["test:old"],"Layers":["one/layer.tar","two/layer.tar"]}]""");
        var archive = _f.PathOf("legacy.tar.gz");
        FormatFixture.Run("tar", "-czf", archive, "-C", dir, ".");
        _ = layers;

        _f.Images.Import("legacy", archive, "legacy", null, CancellationToken.None);

        AssertMergedTree("legacy");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_f.Repository.StagingDirectory));
    }
}
