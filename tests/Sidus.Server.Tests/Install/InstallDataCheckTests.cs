using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sidus.Artifacts.Versions;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Server.Install;
using Sidus.Store;
using Sidus.Store.Objects;
using Sidus.Store.Packs;
using Sidus.Store.Serving;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests.Install;

/// <summary>
/// The install plan reads the whole version before it answers (<c>VersionDataCheck</c>): a version whose file data is
/// damaged in the store is refused with the file it breaks, before the node touches its disk, while a good version of
/// the same store is planned as before; the batch holding the damaged content answers 500 naming it. A pack the disk
/// cannot read (EIO) is damage the same way, a damaged tree a refusal too (not a 500). What a check found is kept per
/// opened store (a reopened store checks again) and shared by requests at once. Over real HTTP (curl) against a
/// server on a home of the test's own, since the damage is for good; each test damages it before the server (or a
/// reopen) opens the store.
/// </summary>
public sealed class InstallDataCheckTests : IAsyncLifetime
{
    private const string OneDisk = "sidus-disks 1\nfirmware bios\ndisk vda 8589934592 0 SER1 - pci-0000:00:04.0 - none\n";
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-datacheck-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly LogCollector _log = new();
    private SidusServer? _server;
    private string _good = "";
    private string _bad = "";
    private string _goodPack = "";
    private string _blobPack = "";
    private ObjectId _goodRootTree;
    private readonly byte[] _kernel = RandomNumberGenerator.GetBytes(200_000);
    private readonly byte[] _initrd = RandomNumberGenerator.GetBytes(100_000);
    private readonly byte[] _blob = RandomNumberGenerator.GetBytes(4 << 20);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_home);
        var packs = Path.Combine(_home, "store", "packs");
        using (var repository = Repository.Open(_home))
        {
            var images = new ImageStore(repository);
            var good = images.ImportDirectory("good", Tree("good", blob: false), "good", null, CancellationToken.None);
            _good = good.Id.ToString();
            _goodRootTree = good.Commit.Root.Tree;
            var goodPacks = Directory.GetFiles(packs, "*.pack");
            _goodPack = goodPacks.MaxBy(f => new FileInfo(f).Length)!;

            // The blob comes first in an image of its own, so the packs "bad" writes hold only its trees and commit
            // (dedup keeps the blob and the kernel out): the blob's pack can be made wholly unreadable while "bad"
            // can still be looked up and walked.
            images.ImportDirectory("blob", BlobOnly(), "blob", null, CancellationToken.None);
            _blobPack = Directory.GetFiles(packs, "*.pack").Except(goodPacks).MaxBy(f => new FileInfo(f).Length)!;
            Assert.True(new FileInfo(_blobPack).Length > 4 << 20, $"{_blobPack} does not hold the blob");
            var blobPacks = Directory.GetFiles(packs, "*.pack");
            _bad = images.ImportDirectory("bad", Tree("bad", blob: true), "bad", null, CancellationToken.None).Id.ToString();
            Assert.All(Directory.GetFiles(packs, "*.pack").Except(blobPacks), p => Assert.True(new FileInfo(p).Length < 1 << 20, $"{p} holds the blob"));
        }

        await using var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName));
        await inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "good1", Macs = [ServerFixture.Mac(1)], Settings = new NodeSettings { Image = "good", Mode = BootMode.Install } }));
        await inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "bad2", Macs = [ServerFixture.Mac(2)], Settings = new NodeSettings { Image = "bad", Mode = BootMode.Install } }));
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task Plan_OfADamagedVersion_RefusedNamingTheFile_AGoodOneStillPlanned()
    {
        FlipMiddleByte(_blobPack);
        await StartAsync();
        var bad = await PlanAsync(2, _bad);
        Assert.True(bad.Status == 409, $"{bad.Status}: {bad.Body}");
        Assert.True(bad.Body.Contains("bad@1 is damaged in the server's store: /usr/lib/blob.bin (content ", StringComparison.Ordinal), bad.Body);
        Assert.Contains("Nothing was touched on the node's disk", bad.Body, StringComparison.Ordinal);
        Assert.Contains("sidus store verify", bad.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("/etc/motd", bad.Body, StringComparison.Ordinal);

        // A failed check is not remembered as passed: asked again, refused again.
        Assert.Equal(409, (await PlanAsync(2, _bad)).Status);

        var good = await PlanAsync(1, _good);
        Assert.True(good.Status == 200, good.Body);
        Assert.Equal(_good, InstallPlan.Parse(good.Body).Version);
    }

    [Fact]
    public async Task Batch_WithTheDamagedContent_Answers500_NamingItsIdAndTheNextStep()
    {
        FlipMiddleByte(_blobPack);
        await StartAsync();
        var damaged = await DamagedBatchAsync();
        Assert.Contains(" is damaged on the server: ", damaged, StringComparison.Ordinal);
        Assert.Contains("Run 'sidus store verify' on the server", damaged, StringComparison.Ordinal);

        // The serve log names the content as the node was told it, so the admin can match the two.
        var logged = Assert.Single(_log.Lines, l => l.Contains("Serving ", StringComparison.Ordinal) && l.Contains(" failed: ", StringComparison.Ordinal));
        Assert.True(logged.Contains($"Serving content {Blob()} of batch ", StringComparison.Ordinal), logged);
    }

    [Fact]
    public async Task Plan_AVersionFoundWhole_CheckedAgainOnceTheStoreIsReopened()
    {
        await StartAsync();
        var whole = await PlanAsync(1, _good);
        Assert.True(whole.Status == 200, whole.Body);

        // What `sidus store gc` leads to: the store reopened on packs no check of this server has read (here the
        // same file, damaged since).
        FlipMiddleByte(_goodPack);
        await ReopenAsync();
        var damaged = await PlanAsync(1, _good);
        Assert.True(damaged.Status == 409, $"{damaged.Status}: {damaged.Body}");
        Assert.Contains("good@1 is damaged in the server's store: ", damaged.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_AskedAtOnceAndAgain_OneCheckOfTheVersion_TheDamageRemembered()
    {
        FlipMiddleByte(_blobPack);
        await StartAsync();
        var session = await NodeSessions.SessionAsync(_server!, ServerFixture.Mac(2), _bad);
        var atOnce = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PlanAsync(2, _bad, session)));
        Assert.All(atOnce, a => Assert.True(a.Status == 409 && a.Body.Contains("/usr/lib/blob.bin", StringComparison.Ordinal), $"{a.Status}: {a.Body}"));
        var serving = Serving();
        var hashed = serving.Checks;
        Assert.Equal(1, VersionDataCheck.ChecksRun(serving));

        // A client looping on the route (it holds the node's session) gets the answer remembered, not another read.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(409, (await PlanAsync(2, _bad, session)).Status);
        }

        Assert.Equal(hashed, serving.Checks);
        Assert.Equal(1, VersionDataCheck.ChecksRun(serving));
    }

    [Fact]
    public async Task Plan_WhenThePackCannotBeRead_RefusedNamingTheFile_TheBatchAnswers500()
    {
        // A real EIO from the pack's read: reading /proc/self/mem where nothing is mapped fails as a bad disk does.
        File.Delete(_blobPack);
        File.CreateSymbolicLink(_blobPack, "/proc/self/mem");
        await StartAsync();

        var plan = await PlanAsync(2, _bad);
        Assert.True(plan.Status == 409, $"{plan.Status}: {plan.Body}");
        Assert.True(plan.Body.Contains("bad@1 is damaged in the server's store: /usr/lib/blob.bin (content ", StringComparison.Ordinal), plan.Body);
        Assert.Contains(" cannot be read: ", plan.Body, StringComparison.Ordinal);

        var damaged = await DamagedBatchAsync();
        Assert.Contains(" is damaged on the server: ", damaged, StringComparison.Ordinal);
        Assert.Contains(" cannot be read: ", damaged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_OfAVersionWhoseTreesAreDamaged_Refused409_NotA500()
    {
        await StartAsync();
        var catalog = _server!.Services.GetRequiredService<ImageCatalog>();

        // The version's boot files were looked up when the node booted, before the damage.
        Assert.NotNull(catalog.Version(ObjectId.Parse(_good)).Files);
        FlipFrameOf(_goodRootTree);
        await ReopenAsync();

        var plan = await PlanAsync(1, _good);
        Assert.True(plan.Status == 409, $"{plan.Status}: {plan.Body}");
        Assert.Contains("good@1 is damaged in the server's store: its list of files cannot be read (", plan.Body, StringComparison.Ordinal);

        // The check itself, when the footprint was known before the damage.
        using var lease = catalog.Store.Acquire();
        var refused = await Assert.ThrowsAsync<InstallPlanException>(() =>
            VersionDataCheck.EnsureIntactAsync(lease.Repository, lease.Serving, ObjectId.Parse(_good), "good@1", CancellationToken.None));
        Assert.Contains("its list of files cannot be read (", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>The bad version's batches in turn; the body of the one 500 (all others 200), which names the blob.</summary>
    private async Task<string> DamagedBatchAsync()
    {
        var session = await NodeSessions.SessionAsync(_server!, ServerFixture.Mac(2), _bad);
        var answers = new List<(int Status, string Body)>();
        for (var index = 0; index < 8; index++)
        {
            var (status, body, _) = await Tools.CurlAsync($"http://127.0.0.1:{_server!.HttpEndpoint.Port}" + ContentRoutes.BatchOf(_bad, index), NodeSessions.Bearer(session));
            if (status == 404)
            {
                break;
            }

            answers.Add((status, Encoding.UTF8.GetString(body)));
        }

        var damaged = Assert.Single(answers, a => a.Status == 500);
        Assert.True(damaged.Body.Contains($"content {Blob()} of batch ", StringComparison.Ordinal), damaged.Body);
        Assert.All(answers.Where(a => a.Status != 500), a => Assert.Equal(200, a.Status));
        return damaged.Body;
    }

    private ObjectId Blob() => ObjectId.Hash(_blob);

    private async Task StartAsync() =>
        // Loopback ties no client to a node (no lease, no neighbour entry): trusted here, as in ServerFixture.
        _server = await SidusServer.StartAsync(new ServeOptions
        {
            Home = _home,
            Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
            Tftp = new TftpSettings { Enabled = false },
            Overrides = new OverridesSettings { AllowUnverified = true },
        }, b => b.AddProvider(_log));

    /// <summary>Opens the store again, as the server does after a gc or an import (at most once a second).</summary>
    private async Task ReopenAsync()
    {
        var store = _server!.Services.GetRequiredService<ImageCatalog>().Store;
        while (!store.Reopen("the test changed the packs"))
        {
            await Task.Delay(100);
        }
    }

    private ServingCache Serving()
    {
        using var lease = _server!.Services.GetRequiredService<ImageCatalog>().Store.Acquire();
        return lease.Serving;
    }

    /// <summary>Flips a byte in the middle of PACK: the frame there no longer decompresses (zstd's checksum).</summary>
    private static void FlipMiddleByte(string pack) => FlipByte(pack, new FileInfo(pack).Length / 2);

    /// <summary>Flips a byte in the middle of the frame that holds object ID.</summary>
    private void FlipFrameOf(ObjectId id)
    {
        foreach (var idx in Directory.GetFiles(Path.Combine(_home, "store", "packs"), "*.idx"))
        {
            foreach (var record in PackFormat.DecodeIndex(File.ReadAllBytes(idx), Path.GetFileNameWithoutExtension(idx)).Where(r => r.Id == id))
            {
                FlipByte(Path.ChangeExtension(idx, ".pack"), record.FrameOffset + (record.FrameLength / 2));
                return;
            }
        }

        Assert.Fail($"object {id} is in no pack");
    }

    private static void FlipByte(string pack, long at)
    {
        using var stream = new FileStream(pack, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = at;
        var b = stream.ReadByte();
        stream.Position = at;
        stream.WriteByte((byte)(b ^ 0x55));
    }

    private async Task<(int Status, string Body)> PlanAsync(int mac, string version, string? session = null)
    {
        session ??= await NodeSessions.SessionAsync(_server!, ServerFixture.Mac(mac), version);
        var (status, body, _) = await Tools.CurlAsync($"http://127.0.0.1:{_server!.HttpEndpoint.Port}" + InstallPlan.Plan(ServerFixture.Mac(mac).ToString()),
            [.. NodeSessions.Bearer(session), "-X", "POST", "-H", "Content-Type: text/plain", "--data-binary", OneDisk]);
        return (status, Encoding.UTF8.GetString(body));
    }

    /// <summary>A small root with a kernel, the same in both images (so the damaged pack holds nothing of "good"); with
    /// BLOB, 4 MiB of random data "good" does not have.</summary>
    private string Tree(string name, bool blob)
    {
        var root = Path.Combine(_home, "src-" + name);
        Directory.CreateDirectory(Path.Combine(root, "boot"));
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        Directory.CreateDirectory(Path.Combine(root, "usr", "lib"));
        File.WriteAllBytes(Path.Combine(root, "boot", "vmlinuz-6.1.0-18-amd64"), _kernel);
        File.WriteAllBytes(Path.Combine(root, "boot", "initrd.img-6.1.0-18-amd64"), _initrd);
        File.WriteAllText(Path.Combine(root, "etc", "motd"), "welcome\n");
        if (blob)
        {
            File.WriteAllBytes(Path.Combine(root, "usr", "lib", "blob.bin"), _blob);
        }

        return root;
    }

    /// <summary>A root holding only the blob, where "bad" has it.</summary>
    private string BlobOnly()
    {
        var root = Path.Combine(_home, "src-blob");
        Directory.CreateDirectory(Path.Combine(root, "usr", "lib"));
        File.WriteAllBytes(Path.Combine(root, "usr", "lib", "blob.bin"), _blob);
        return root;
    }
}
