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
/// A private Sidus home with one image (a kernel and initramfs of random bytes, laid out like Debian's) and a
/// `sidus serve` host running in-process on 127.0.0.1 with ephemeral HTTP and TFTP ports.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    /// <summary>Kernel arguments the inventory takes (1499 of the 1536 characters a kernel line may hold) that leave no
    /// room for Sidus's own: the boot script refuses them.</summary>
    public static readonly string LongKernelArgs = string.Join(' ', Enumerable.Repeat("quiet", 250));

    public const string KernelName = "vmlinuz-6.1.0-18-amd64";
    public const string OlderKernelName = "vmlinuz-6.1.0-9-amd64";

    public string Home { get; } = Path.Combine(Path.GetTempPath(), "sidus-serve-" + Guid.NewGuid().ToString("N")[..12]);

    public byte[] Kernel { get; } = Random(3_000_000);

    public byte[] Initrd { get; } = Random(700_000);

    public string VersionId { get; private set; } = "";

    public SidusServer Server { get; private set; } = null!;

    public InventoryStore Inventory { get; private set; } = null!;

    public string Http => $"http://127.0.0.1:{Server.HttpEndpoint.Port}";

    public int TftpPort => Server.TftpEndpoint!.Port;

    public LogCollector Log { get; } = new();

    /// <summary>An admin token of the fixture's inventory, for the API reads.</summary>
    public string AdminToken { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var root = Path.Combine(Home, "root");
        Directory.CreateDirectory(Path.Combine(root, "boot"));
        await File.WriteAllBytesAsync(Path.Combine(root, "boot", KernelName), Kernel);
        await File.WriteAllBytesAsync(Path.Combine(root, "boot", OlderKernelName), Random(1000));
        await File.WriteAllBytesAsync(Path.Combine(root, "boot", "initrd.img-6.1.0-18-amd64"), Initrd);
        await File.WriteAllBytesAsync(Path.Combine(root, "boot", "initrd.img-6.1.0-9-amd64"), Random(1000));
        using (var repository = Repository.Open(Home))
        {
            var images = new ImageStore(repository);
            VersionId = images.ImportDirectory("deb", root, "test image", null, CancellationToken.None).Id.ToString();
        }

        // n5's arguments pass the inventory but leave no room for Sidus's own on the kernel line.
        Inventory = await InventoryStore.OpenAsync(Path.Combine(Home, InventoryStore.DefaultFileName));
        AdminToken = (await Inventory.EditAsync(e => e.AddAdminTokenAsync("tests", DateTimeOffset.UtcNow, null))).Secret;
        await Inventory.EditAsync(async e =>
        {
            await e.AddNodeAsync(new Node { Name = "n1", Macs = [Mac(1)], Settings = new NodeSettings { Image = "deb", Mode = BootMode.Install, KernelArgs = "console=ttyS0 quiet" } });
            await e.AddNodeAsync(new Node { Name = "n2", Macs = [Mac(2)], Settings = new NodeSettings { Mode = BootMode.Local } });
            await e.AddNodeAsync(new Node { Name = "n3", Macs = [Mac(3)], Settings = new NodeSettings { Image = "deb", Mode = BootMode.Menu } });
            await e.AddNodeAsync(new Node { Name = "n4", Macs = [Mac(4)], Settings = new NodeSettings { Image = "nosuchimage" } });
            await e.AddNodeAsync(new Node { Name = "n5", Macs = [Mac(5)], Settings = new NodeSettings { Image = "deb", Mode = BootMode.Install, KernelArgs = LongKernelArgs } });
            await e.AddNodeAsync(new Node { Name = "n6", Macs = [Mac(6)], Settings = new NodeSettings { Image = "deb", Mode = BootMode.Ram } });
        });

        var options = new ServeOptions
        {
            Home = Home,
            Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
            Tftp = new TftpSettings { Listen = IPAddress.Loopback, Port = 0 },
            Nbd = new NbdSettings { Listen = IPAddress.Loopback, Port = 0 },
            Boot = new BootSettings { AskAgainAttempts = 2, AgentPath = Path.Combine(Home, "no-agent-here") },
            InventoryPollInterval = TimeSpan.FromMilliseconds(200),

            // Every client here is on loopback, which nothing ties to a node (no lease, no neighbour entry): the
            // tests of that rule run their own server (OverrideHttpTests).
            Overrides = new OverridesSettings { AllowUnverified = true },
        };
        Server = await SidusServer.StartAsync(options, b => b.AddProvider(Log).SetMinimumLevel(LogLevel.Debug));
    }

    /// <summary>`sidus serve` on HOME, HTTP only on an ephemeral loopback port, reading inventory changes every 200 ms.</summary>
    public static Task<SidusServer> StartHttpOnlyAsync(string home) => SidusServer.StartAsync(new ServeOptions
    {
        Home = home,
        Http = new HttpSettings { Listen = IPAddress.Loopback, Port = 0 },
        Tftp = new TftpSettings { Enabled = false },
        InventoryPollInterval = TimeSpan.FromMilliseconds(200),
    });

    public static MacAddress Mac(int n) => MacAddress.Parse($"52:54:00:00:01:{n:x2}");

    public static string UrlMac(int n) => $"52-54-00-00-01-{n:x2}";

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Inventory.DisposeAsync();
        Directory.Delete(Home, recursive: true);
    }

    private static byte[] Random(int length)
    {
        var bytes = new byte[length];
        System.Random.Shared.NextBytes(bytes);
        return bytes;
    }
}

/// <summary>Keeps the server's log lines so tests can check what it decided (and why).</summary>
public sealed class LogCollector : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IEnumerable<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCollector owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
    }
}
