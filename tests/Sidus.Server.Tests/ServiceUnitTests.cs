using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Sidus.Linux;
using Sidus.Server.Configuration;
using Sidus.Server.Hosting;

namespace Sidus.Server.Tests;

/// <summary>The pieces of `sidus serve` as a service, each on its own: what a reload may change, sd_notify, the watchdog, the journal check.</summary>
public sealed partial class ServiceUnitTests
{
    private static readonly ServeOptions Running = new()
    {
        Home = "/var/lib/sidus",
        Interfaces =
        [
            new InterfaceSettings
            {
                Name = "eth1", Dhcp = DhcpService.Full, Address = IPAddress.Parse("10.0.0.1"), Subnet = IPNetwork.Parse("10.0.0.0/24"),
                Pools = ["10.0.0.100-10.0.0.200"], Router = IPAddress.Parse("10.0.0.254"),
            },
        ],
    };

    [Fact]
    public void ConfigChanges_LiveSettingsApplied_RestartSettingsNamedAndKept()
    {
        var loaded = Running with
        {
            LogLevel = LogLevel.Debug,
            Http = Running.Http with { Port = 8080 },
            Boot = Running.Boot with { MenuTimeout = TimeSpan.FromSeconds(5), AgentPath = "/opt/sidus-agent" },
            Interfaces =
            [
                Running.Interfaces[0] with { Pools = ["10.0.0.50-10.0.0.60"], Dns = [IPAddress.Parse("10.0.0.53")], Address = IPAddress.Parse("10.0.0.2") },
                new InterfaceSettings { Name = "eth2", Dhcp = DhcpService.Proxy },
            ],
        };

        var changes = ConfigChanges.Between(Running, loaded);
        Assert.Equal(
            [
                "log-level info -> debug", "boot.menu-timeout 15 -> 5", "interface eth1.pools 10.0.0.100-10.0.0.200 -> 10.0.0.50-10.0.0.60",
                "interface eth1.dns (none) -> 10.0.0.53",
            ],
            changes.Where(c => c.Live).Select(c => c.ToString()));
        Assert.Equal(
            ["http.port 80 -> 8080", "boot.agent " + Running.Boot.AgentPath + " -> /opt/sidus-agent", "interface eth1.address 10.0.0.1/24 -> 10.0.0.2/24", "interface eth2 (none) -> dhcp proxy"],
            changes.Where(c => !c.Live).Select(c => c.ToString()));

        var applied = ConfigChanges.Apply(Running, loaded);
        Assert.Equal(LogLevel.Debug, applied.LogLevel);
        Assert.Equal(TimeSpan.FromSeconds(5), applied.Boot.MenuTimeout);
        Assert.Equal(80, applied.Http.Port);
        Assert.Equal(Running.Boot.AgentPath, applied.Boot.AgentPath);
        var eth1 = Assert.Single(applied.Interfaces);
        Assert.Equal(["10.0.0.50-10.0.0.60"], eth1.Pools);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), eth1.Address);
        Assert.DoesNotContain(ConfigChanges.Between(applied, ConfigChanges.Apply(applied, loaded)), c => c.Live);
    }

    [Fact]
    public void ConfigChanges_InterfaceModeChanged_KeepsAllOfItsSettings()
    {
        var loaded = Running with { Interfaces = [Running.Interfaces[0] with { Dhcp = DhcpService.Proxy, Router = null }] };
        var change = Assert.Single(ConfigChanges.Between(Running, loaded), c => !c.Live);
        Assert.Equal("interface eth1.dhcp full -> proxy", change.ToString());
        Assert.Equal(Running.Interfaces[0], Assert.Single(ConfigChanges.Apply(Running, loaded).Interfaces));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ListenerHost_ListenerDies_EssentialOneMakesTheServerUnhealthyAndStopsIt(bool essential)
    {
        var lifetime = new Microsoft.Extensions.Hosting.Internal.ApplicationLifetime(
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>.Instance);
        var health = new ServerHealth();
        using var host = new ListenerHost(new DyingListener(essential), health, lifetime, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await host.StartAsync(CancellationToken.None);
        await host.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(essential ? "TFTP stopped: Connection reset by peer" : null, health.Failure);
        Assert.Equal(essential, lifetime.ApplicationStopping.IsCancellationRequested);
    }

    /// <summary>A listener whose socket fails while it serves (a socket error cannot be caused from outside here).</summary>
    private sealed class DyingListener(bool essential) : IBootListener
    {
        public string Name => "TFTP";

        public bool Essential => essential;

        public void Bind()
        {
        }

        public async Task RunAsync(CancellationToken stopping)
        {
            await Task.Delay(50, stopping);
            throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset);
        }

        public string Describe() => "tftp";

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task DhcpServer_Reconfigure_TakesNetworkSettings_RefusesWhatItsSocketsDependOn()
    {
        var options = new Sidus.Wire.Dhcp.DhcpServerOptions { InterfaceName = "eth1", ServerAddress = Sidus.Wire.Dhcp.Ip4.Parse("10.0.0.1"), Pools = [Sidus.Wire.Dhcp.DhcpPool.Parse("10.0.0.100-10.0.0.200")] };
        await using var server = new Sidus.Wire.Dhcp.DhcpServer(options, new Sidus.Wire.Dhcp.StaticDhcpNodeSource());
        var changed = options with { Router = Sidus.Wire.Dhcp.Ip4.Parse("10.0.0.254"), LeaseTime = TimeSpan.FromMinutes(5) };
        server.Reconfigure(changed);
        Assert.Same(changed, server.Options);
        Assert.Throws<ArgumentException>(() => server.Reconfigure(changed with { InterfaceName = "eth2" }));
        Assert.Throws<ArgumentException>(() => server.Reconfigure(changed with { Mode = Sidus.Wire.Dhcp.DhcpMode.Proxy }));
        Assert.Throws<ArgumentException>(() => server.Reconfigure(changed with { ServerAddress = Sidus.Wire.Dhcp.Ip4.Parse("10.0.0.2") }));
        Assert.Same(changed, server.Options);
    }

    [Theory]
    [InlineData("30000000", null, 30.0)]
    [InlineData("30000000", "4242", 30.0)]
    [InlineData("30000000", "4243", null)]
    [InlineData("0", null, null)]
    [InlineData("soon", null, null)]
    [InlineData(null, null, null)]
    public void ParseWatchdog_OnlyForThisProcess(string? usec, string? pid, double? seconds) =>
        Assert.Equal(seconds is null ? null : TimeSpan.FromSeconds(seconds.Value), SystemdNotifier.ParseWatchdog(usec, pid, 4242));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Notifier_SendsToPathAndAbstractSockets(bool abstractName)
    {
        using var manager = new NotifySocket(abstractName);
        using var notifier = new SystemdNotifier(manager.Address, null);
        Assert.True(notifier.Ready("HTTP 0.0.0.0:80; 3 nodes"));
        var before = PythonMonotonicMicroseconds();
        notifier.Reloading();
        var after = PythonMonotonicMicroseconds();
        var ready = await manager.WaitForAsync("READY=1", TimeSpan.FromSeconds(5));
        Assert.Equal("READY=1\nSTATUS=HTTP 0.0.0.0:80; 3 nodes", ready?.Text);
        var reloading = await manager.WaitForAsync("RELOADING=1", TimeSpan.FromSeconds(5));
        var usec = long.Parse(Regex.Match(reloading!.Value.Text, @"MONOTONIC_USEC=(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        // CLOCK_MONOTONIC, the clock systemd compares it with, as another program reads it.
        Assert.InRange(usec, before, after);
    }

    private static long PythonMonotonicMicroseconds() => long.Parse(
        Sidus.Testing.ProcessRunner.RunChecked(
            Sidus.Testing.Tool.Require("python3", "python3"), ["-c", "import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)"],
            TimeSpan.FromSeconds(10)).StandardOutput.Trim(),
        CultureInfo.InvariantCulture);

    [Fact]
    public void Notifier_WithoutSocket_SendsNothingAndRunsNoWatchdog()
    {
        using var none = new SystemdNotifier(null, TimeSpan.FromSeconds(30));
        Assert.False(none.Enabled);
        Assert.Null(none.WatchdogInterval);
        Assert.False(none.Ready("x"));
        using var vsock = new SystemdNotifier("vsock:2:1234", TimeSpan.FromSeconds(30));
        Assert.False(vsock.Enabled);
    }

    [Fact]
    public async Task Watchdog_PingsWhileHealthy_StopsWhenAListenerDies()
    {
        using var manager = new NotifySocket(abstractName: false);
        using var notifier = new SystemdNotifier(manager.Address, TimeSpan.FromMilliseconds(200));
        var health = new ServerHealth();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var pinging = WatchdogPinger.PingAsync(notifier, health, TimeSpan.FromMilliseconds(100), stop.Token);
        for (var i = 0; i < 3; i++)
        {
            Assert.NotNull(await manager.WaitForAsync("WATCHDOG=1", TimeSpan.FromSeconds(5), after: i));
        }

        health.ReportFailure("TFTP", "socket closed");
        var sent = await pinging.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(sent >= 3, $"{sent} pings");
        await Task.Delay(500);
        Assert.Equal(sent, manager.Messages.Count(m => m.Text == "WATCHDOG=1"));
        Assert.False(stop.IsCancellationRequested, "the pinger stopped because of the health, not the token");
        Assert.Equal("TFTP stopped: socket closed", health.Failure);
        health.ReportFailure("NBD", "later");
        Assert.Equal("TFTP stopped: socket closed", health.Failure);
    }

    [Fact]
    public void JournalStream_DeviceAndInode_AreWhatStatSays()
    {
        var file = Path.GetTempFileName();
        try
        {
            using var stream = File.OpenRead(file);
            Assert.True(JournalStream.TryGetDeviceAndInode((int)stream.SafeFileHandle.DangerousGetHandle(), out var device, out var inode));
            var stat = Sidus.Testing.ProcessRunner.RunChecked("stat", ["-c", "%d:%i", file], TimeSpan.FromSeconds(10)).StandardOutput.Trim();
            Assert.Equal(stat, $"{device}:{inode}");
            Assert.True(JournalStream.TryParse(stat, out var d, out var i));
            Assert.Equal((device, inode), (d, i));
        }
        finally
        {
            File.Delete(file);
        }

        Assert.False(JournalStream.TryParse("12", out _, out _));
        Assert.False(JournalStream.TryParse(":12", out _, out _));
        Assert.False(JournalStream.TryParse("a:b", out _, out _));
        Assert.Equal(0x10302ul, JournalStream.MakeDevice(259, 2));
    }

    [Theory]
    [InlineData("log-level = \"warning\"", LogLevel.Warning)]
    [InlineData("log-level = \"TRACE\"", LogLevel.Trace)]
    [InlineData("", LogLevel.Information)]
    public void ConfigFile_LogLevel(string text, LogLevel expected) =>
        Assert.Equal(expected, ServeConfigFile.Parse(text, "sidus.toml", Running).LogLevel);

    [Fact]
    public void ConfigFile_BadLogLevel_NamesTheWords()
    {
        var e = Assert.Throws<ServeConfigException>(() => ServeConfigFile.Parse("log-level = \"verbose\"", "sidus.toml", Running));
        Assert.Equal("sidus.toml: log-level: 'verbose' is not a log level: use trace, debug, info, warning, error", e.Message);
    }

    [Fact]
    public void LogLevelSwitch_FrameworkCategoriesHeldToWarnings()
    {
        var level = new LogLevelSwitch(LogLevel.Debug);
        Assert.True(level.Allows(null, "Sidus.Server", LogLevel.Debug));
        Assert.False(level.Allows(null, "Sidus.Server", LogLevel.Trace));
        Assert.False(level.Allows(null, "Microsoft.AspNetCore.Server.Kestrel", LogLevel.Information));
        Assert.True(level.Allows(null, "Microsoft.AspNetCore.Server.Kestrel", LogLevel.Warning));
        Assert.False(level.Allows(null, "Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Error));
        level.Level = LogLevel.Error;
        Assert.False(level.Allows(null, "Sidus.Server", LogLevel.Warning));
        Assert.False(level.Allows(null, "Microsoft.AspNetCore.Server.Kestrel", LogLevel.Warning));
        Assert.True(level.Allows(null, "Sidus.Server", LogLevel.Error));
    }
}
