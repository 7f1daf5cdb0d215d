using System.Net;
using System.Security.Cryptography;
using System.Text;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Store;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests.Install;

/// <summary>
/// The install plan reads the whole version before it answers (<c>VersionDataCheck</c>): a version whose file data is
/// damaged in the store is refused with the file it breaks, before the node touches its disk, while a good version of
/// the same store is planned as before; the batch holding the damaged content answers 500 naming it. Over real HTTP
/// (curl) against a server on a home of the test's own, since the damage is for good.
/// </summary>
public sealed class InstallDataCheckTests : IAsyncLifetime
{
    private const string OneDisk = "sidus-disks 1\nfirmware bios\ndisk vda 8589934592 0 SER1 - pci-0000:00:04.0 - none\n";
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-datacheck-" + Guid.NewGuid().ToString("N")[..12]);
    private SidusServer _server = null!;
    private string _good = "";
    private string _bad = "";
    private readonly byte[] _kernel = RandomNumberGenerator.GetBytes(200_000);
    private readonly byte[] _initrd = RandomNumberGenerator.GetBytes(100_000);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_home);
        var packs = Path.Combine(_home, "store", "packs");
        HashSet<string> before;
        using (var repository = Repository.Open(_home))
        {
            var images = new ImageStore(repository);
            _good = images.ImportDirectory("good", Tree("good", blob: false), "good", null, CancellationToken.None).Id.ToString();
            before = [.. Directory.GetFiles(packs, "*.pack")];
            _bad = images.ImportDirectory("bad", Tree("bad", blob: true), "bad", null, CancellationToken.None).Id.ToString();
        }

        // The largest pack "bad" wrote holds its 4 MiB of random data (an import may write its trees to a pack of
        // their own, with the same mtime: "the newest" is no way to tell them apart). A byte in its middle is the blob's.
        var pack = new FileInfo(Directory.GetFiles(packs, "*.pack").Except(before).MaxBy(f => new FileInfo(f).Length)!);
        Assert.True(pack.Length > 4 << 20, $"{pack.Name} ({pack.Length} bytes) does not hold the blob");
        await using (var stream = new FileStream(pack.FullName, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = pack.Length / 2;
            var b = stream.ReadByte();
            stream.Position = pack.Length / 2;
            stream.WriteByte((byte)(b ^ 0x55));
        }

        await using (var inventory = await InventoryStore.OpenAsync(Path.Combine(_home, InventoryStore.DefaultFileName)))
        {
            await inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "good1", Macs = [ServerFixture.Mac(1)], Settings = new NodeSettings { Image = "good", Mode = BootMode.Install } }));
            await inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "bad2", Macs = [ServerFixture.Mac(2)], Settings = new NodeSettings { Image = "bad", Mode = BootMode.Install } }));
        }

        // Loopback ties no client to a node (no lease, no neighbour entry): trusted here, as in ServerFixture.
        _server = await SidusServer.StartAsync(new ServeOptions
        {
            Home = _home,
            Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
            Tftp = new TftpSettings { Enabled = false },
            Overrides = new OverridesSettings { AllowUnverified = true },
        });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task Plan_OfADamagedVersion_RefusedNamingTheFile_AGoodOneStillPlanned()
    {
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
        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(2), _bad);
        var blob = Sidus.Store.Objects.ObjectId.Hash(await File.ReadAllBytesAsync(Path.Combine(_home, "src-bad", "usr", "lib", "blob.bin")));
        var answers = new List<(int Status, string Body)>();
        for (var index = 0; index < 8; index++)
        {
            var (status, body, _) = await Tools.CurlAsync($"http://127.0.0.1:{_server.HttpEndpoint.Port}" + ContentRoutes.BatchOf(_bad, index), NodeSessions.Bearer(session));
            if (status == 404)
            {
                break;
            }

            answers.Add((status, Encoding.UTF8.GetString(body)));
        }

        var damaged = Assert.Single(answers, a => a.Status == 500);
        Assert.True(damaged.Body.Contains($"content {blob} of batch ", StringComparison.Ordinal), damaged.Body);
        Assert.Contains(" is damaged on the server: ", damaged.Body, StringComparison.Ordinal);
        Assert.Contains("Run 'sidus store verify' on the server", damaged.Body, StringComparison.Ordinal);
        Assert.All(answers.Where(a => a.Status != 500), a => Assert.Equal(200, a.Status));
    }

    private async Task<(int Status, string Body)> PlanAsync(int mac, string version)
    {
        var session = await NodeSessions.SessionAsync(_server, ServerFixture.Mac(mac), version);
        var (status, body, _) = await Tools.CurlAsync($"http://127.0.0.1:{_server.HttpEndpoint.Port}" + InstallPlan.Plan(ServerFixture.Mac(mac).ToString()),
            [.. NodeSessions.Bearer(session), "-X", "POST", "-H", "Content-Type: text/plain", "--data-binary", OneDisk]);
        return (status, Encoding.UTF8.GetString(body));
    }

    /// <summary>A small root with a kernel, the same in both images (so the damaged pack holds nothing of "good"); with
    /// BLOB, 4 MiB of random data no other image has.</summary>
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
            File.WriteAllBytes(Path.Combine(root, "usr", "lib", "blob.bin"), RandomNumberGenerator.GetBytes(4 << 20));
        }

        return root;
    }
}
