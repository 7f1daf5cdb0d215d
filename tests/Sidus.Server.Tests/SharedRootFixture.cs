using System.Net;
using Microsoft.Extensions.Logging;
using Sidus.Nodes;
using Sidus.Nodes.Storage;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;
using Sidus.Store;
using Sidus.Wire.Contracts;

namespace Sidus.Server.Tests;

/// <summary>
/// A private Sidus home with an image that a Sidus initramfs can be made from (a kernel file, empty module lists,
/// the host's C library) plus files to read back through NBD, and `sidus serve` on 127.0.0.1 with NBD on an
/// ephemeral port. Node "s1" boots it in shared mode.
/// </summary>
public sealed class SharedRootFixture : IAsyncLifetime
{
    public const string Release = BootableRoot.Release;

    public static readonly MacAddress SharedMac = MacAddress.Parse("52:54:00:00:02:01");

    public static readonly MacAddress RamMac = MacAddress.Parse("52:54:00:00:02:02");

    public string Home { get; } = Path.Combine(Path.GetTempPath(), "sidus-shared-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The imported tree (the store version's content, to compare reads with).</summary>
    public string Root => Path.Combine(Home, "root");

    public string VersionId { get; private set; } = "";

    public SidusServer Server { get; private set; } = null!;

    public InventoryStore Inventory { get; private set; } = null!;

    public LogCollector Log { get; } = new();

    public string Http => $"http://127.0.0.1:{Server.HttpEndpoint.Port}";

    public int NbdPort => Server.NbdEndpoint!.Port;

    public string ExportPath => Path.Combine(Home, "exports", VersionId + ".erofs");

    public ServeOptions Options { get; private set; } = null!;

    /// <summary>An admin token of the fixture's inventory, for the API reads.</summary>
    public string AdminToken { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await BootableRoot.WriteAsync(Root);
        Directory.CreateDirectory(Path.Combine(Root, "usr", "share", "sidus"));
        await File.WriteAllTextAsync(Path.Combine(Root, "etc", "hostname"), "shared-image\n");
        await File.WriteAllBytesAsync(Path.Combine(Root, "usr", "share", "sidus", "big.bin"), BootableRoot.Random(3_000_000));
        File.CreateSymbolicLink(Path.Combine(Root, "usr", "share", "sidus", "link"), "big.bin");
        using (var repository = Repository.Open(Home))
        {
            VersionId = new ImageStore(repository).ImportDirectory("shared", Root, "shared image", null, CancellationToken.None).Id.ToString();
        }

        var agent = Path.Combine(Home, "sidus-agent");
        File.Copy("/bin/true", agent);
        Inventory = await InventoryStore.OpenAsync(Path.Combine(Home, InventoryStore.DefaultFileName));
        AdminToken = (await Inventory.EditAsync(e => e.AddAdminTokenAsync("tests", DateTimeOffset.UtcNow, null))).Secret;
        await Inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "s1", Macs = [SharedMac], Settings = new NodeSettings { Image = "shared", Mode = BootMode.Shared } }));
        await Inventory.EditAsync(e => e.AddNodeAsync(new Node { Name = "r1", Macs = [RamMac], Settings = new NodeSettings { Image = "shared", Mode = BootMode.Ram } }));
        Options = new ServeOptions
        {
            Home = Home,
            Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
            Tftp = new TftpSettings { Enabled = false },
            Nbd = new NbdSettings { Listen = IPAddress.Loopback, Port = 0 },
            Boot = new BootSettings { AskAgainAttempts = 2, AgentPath = agent },
            InventoryPollInterval = TimeSpan.FromMilliseconds(200),

            // The clients here are all on loopback, which nothing ties to a node (OverrideHttpTests tests that rule).
            Overrides = new OverridesSettings { AllowUnverified = true },
        };
        Server = await SidusServer.StartAsync(Options, b => b.AddProvider(Log).SetMinimumLevel(LogLevel.Debug));
    }

    public static string UrlMac => SharedMac.ToString().Replace(':', '-');

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Inventory.DisposeAsync();
        Directory.Delete(Home, recursive: true);
    }
}
