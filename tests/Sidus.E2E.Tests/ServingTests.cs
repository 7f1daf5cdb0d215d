using System.Security.Cryptography;
using Sidus.Agent.Fetch;
using Sidus.E2E.Tests.Support;
using Sidus.Store.Serving;

namespace Sidus.E2E.Tests;

/// <summary>The serving functions against the agent's parser, on the fixture's real image.</summary>
public sealed class ServingTests(BootImageFixture fixture) : IClassFixture<BootImageFixture>
{
    [Fact]
    public void Manifest_OfRealImage_ParsesWithEveryEntryAndHash()
    {
        var (manifest, sha) = ContentServer.Manifest(fixture.Repository, fixture.Version, CancellationToken.None);
        var entries = ManifestParser.Parse(System.Text.Encoding.UTF8.GetString(manifest));
        var commit = fixture.Repository.ReadCommit(fixture.Version);
        Assert.Equal(commit.Entries + 1, entries.Count);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(manifest)), sha);
        Assert.Contains(entries, e => e.Kind == 'l' && System.Text.Encoding.UTF8.GetString(e.Path) == "lib");
    }

    [Fact]
    public void Manifest_FileWithCapabilityAndUserXattr_CarriesBoth()
    {
        var work = Directory.CreateTempSubdirectory("sidus-manifest-xattr-").FullName;
        try
        {
            var tree = Path.Combine(work, "tree");
            Directory.CreateDirectory(tree);
            var file = Path.Combine(tree, "ping");
            File.WriteAllText(file, "binary");
            Tool.Run(TimeSpan.FromSeconds(30), Tool.Require("setcap", "libcap2-bin"), "cap_net_raw+ep", file);
            Tool.Run(TimeSpan.FromSeconds(30), Tool.Require("setfattr", "attr"), "-n", "user.note", "-v", "0x2c3d", file);
            Directory.CreateDirectory(Path.Combine(work, "home"));
            var repository = Sidus.Store.Repository.Open(Path.Combine(work, "home"));
            new Sidus.Store.ImageStore(repository).ImportDirectory("x", tree, "xattrs", null, CancellationToken.None);
            var (version, _) = repository.Resolve("x");
            var (manifest, _) = ContentServer.Manifest(repository, version, CancellationToken.None);

            var ping = ManifestParser.Parse(System.Text.Encoding.UTF8.GetString(manifest)).Single(e => e.Kind == 'f');
            var names = ping.Xattrs.Select(x => System.Text.Encoding.ASCII.GetString(x.Key)).ToList();
            Assert.Equal(["security.capability", "user.note"], names);
            Assert.Equal(new byte[] { 0x2c, 0x3d }, ping.Xattrs[1].Value);
            Assert.Equal(0x2000, BitConverter.ToInt32(ping.Xattrs[0].Value, 4)); // CAP_NET_RAW (13) in the permitted set
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task Batch_ThreeFiles_FramesCarryIdLengthAndVerifiedData()
    {
        var (manifest, _) = ContentServer.Manifest(fixture.Repository, fixture.Version, CancellationToken.None);
        var files = ManifestParser.Parse(System.Text.Encoding.UTF8.GetString(manifest)).Where(e => e.Kind == 'f' && e.Size > 0).Take(3).ToList();
        var body = string.Join('\n', files.Select(f => Convert.ToHexStringLower(f.Content!)));
        Assert.True(ContentServer.TryParseBatch(System.Text.Encoding.ASCII.GetBytes(body), out var ids, out _));
        using var output = new MemoryStream();
        await ContentServer.WriteBatchAsync(fixture.Repository, ids, output, CancellationToken.None);
        var bytes = output.ToArray();
        var at = 0;
        foreach (var file in files)
        {
            Assert.Equal(file.Content, bytes.AsSpan(at, 32).ToArray());
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(at + 32));
            Assert.Equal(file.Size, length);
            Assert.Equal(file.Content, Sha256.Hash(bytes.AsSpan(at + ContentServer.FrameHeaderLength, (int)length)));
            at += ContentServer.FrameHeaderLength + (int)length;
        }

        Assert.Equal(bytes.Length, at);
    }

    [Theory]
    [InlineData("xyz\n")]
    [InlineData("0123\n")]
    public void TryParseBatch_BadLines_Refused(string body)
    {
        Assert.False(ContentServer.TryParseBatch(System.Text.Encoding.ASCII.GetBytes(body), out _, out var error));
        Assert.NotNull(error);
    }
}
