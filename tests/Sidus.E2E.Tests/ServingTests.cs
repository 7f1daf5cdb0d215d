using System.Security.Cryptography;
using Sidus.Agent.Fetch;
using Sidus.Linux;
using Sidus.E2E.Tests.Support;
using Sidus.Store.Serving;
using Sidus.Wire.Contracts;

namespace Sidus.E2E.Tests;

/// <summary>The serving functions against the manifest reader and the batch plan the agent uses, on the fixture's real image.</summary>
public sealed class ServingTests(BootImageFixture fixture) : IClassFixture<BootImageFixture>
{
    [Fact]
    public void Manifest_OfRealImage_ParsesWithEveryEntryAndHash()
    {
        var (manifest, sha) = ContentServer.Manifest(fixture.Repository, fixture.Version, CancellationToken.None);
        var entries = ManifestReader.Parse(System.Text.Encoding.UTF8.GetString(manifest));
        var commit = fixture.Repository.ReadCommit(fixture.Version);
        Assert.Equal(commit.Entries + 1, entries.Count);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(manifest)), sha);
        Assert.Contains(entries, e => e.Kind == FileKind.Symlink && System.Text.Encoding.UTF8.GetString(e.Path) == "lib");
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

            var ping = ManifestReader.Parse(System.Text.Encoding.UTF8.GetString(manifest)).Single(e => e.Kind == FileKind.Regular);
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
    public async Task Batch_FirstOfPlan_FramesCarryIdLengthAndVerifiedData()
    {
        var (manifest, _) = ContentServer.Manifest(fixture.Repository, fixture.Version, CancellationToken.None);
        var plan = ContentBatchPlan.Make(ManifestReader.Parse(System.Text.Encoding.UTF8.GetString(manifest)));
        Assert.NotEmpty(plan);
        Assert.All(plan, batch => Assert.True(batch.Count <= ContentBatchPlan.MaxFiles && (batch.Count == 1 || batch.Sum(i => i.Length) <= ContentBatchPlan.MaxBytes)));
        var ids = plan[0].Select(item => Sidus.Store.Objects.ObjectId.Read(item.Content)).ToList();
        using var output = new MemoryStream();
        await ContentServer.WriteBatchAsync(fixture.Repository, ids, output, CancellationToken.None);
        var bytes = output.ToArray();
        var at = 0;
        foreach (var item in plan[0])
        {
            var (id, length) = ContentBatchFrame.ReadHeader(bytes.AsSpan(at));
            Assert.Equal(item.Content, id);
            Assert.Equal(item.Length, length);
            Assert.Equal(item.Content, Sha256.Hash(bytes.AsSpan(at + ContentBatchFrame.HeaderLength, (int)length)));
            at += ContentBatchFrame.HeaderLength + (int)length;
        }

        Assert.Equal(bytes.Length, at);
    }
}
