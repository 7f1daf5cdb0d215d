using System.Net;
using System.Net.Sockets;
using Sidus.Testing;

namespace Sidus.Server.Tests;

/// <summary>
/// The real `sidus serve` process as systemd runs it (no systemd here: the test plays the service manager): sd_notify
/// over a unix datagram socket, the watchdog, the journal's log format, --log-level. HTTP only, on loopback.
/// </summary>
public sealed class ServeServiceTests : IDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-service-" + Guid.NewGuid().ToString("N")[..12]);

    public ServeServiceTests() => Directory.CreateDirectory(_home);

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UnderNotifySocket_ReadyAfterHttpAnswers_WatchdogPings_StoppingOnSigterm_ExitZero(bool abstractName)
    {
        using var manager = new NotifySocket(abstractName);
        var port = FreePort();
        using var serve = StartServe(port, [$"NOTIFY_SOCKET={manager.Address}", "WATCHDOG_USEC=1000000"]);

        var ready = await manager.WaitForAsync("READY=1", StartLimit);
        Assert.True(ready is not null, "no READY=1:\n" + serve.Output);
        // Ready means ready: the first request after READY=1 is answered, with no retry.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.StartsWith("ok", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz")), StringComparison.Ordinal);
        Assert.Contains($"STATUS=HTTP 127.0.0.1:{port}, no DHCP; 0 nodes", ready.Value.Text, StringComparison.Ordinal);

        // WATCHDOG_USEC=1 s: a ping every 0.5 s.
        await Task.Delay(TimeSpan.FromSeconds(2.6));
        var pings = manager.Messages.Where(m => m.Text == "WATCHDOG=1" && m.At > ready.Value.At).ToArray();
        Assert.True(pings.Length is >= 3 and <= 7, $"{pings.Length} pings in 2.6 s after READY:\n" + string.Join("\n", manager.Messages));

        var before = manager.Messages.Count;
        serve.Signal(BackgroundProcess.SigTerm);
        Assert.True(await manager.WaitForAsync("STOPPING=1", TimeSpan.FromSeconds(10), before) is not null, "no STOPPING=1:\n" + serve.Output);
        Assert.True(serve.WaitForExit(TimeSpan.FromSeconds(20)), "sidus serve did not exit after SIGTERM:\n" + serve.Output);
        Assert.Equal(0, serve.ExitCode);
        Assert.DoesNotContain("NOTIFY_SOCKET", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoNotifySocket_ServesAsBefore_AndSendsNothing()
    {
        var port = FreePort();
        using var serve = StartServe(port, ["WATCHDOG_USEC=1000000"]);
        await WaitForHttpAsync(serve, port);
        Assert.DoesNotContain("Service manager notified", serve.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Watchdog", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnderJournalStream_LinesCarrySyslogPriorities_NoTimeNoColour()
    {
        var port = FreePort();
        await File.WriteAllTextAsync(Path.Combine(_home, "sidus.toml"), "inventory-poll = 1\n");
        // What systemd does: JOURNAL_STREAM names the device and inode of the stream stdout is connected to.
        using var serve = BackgroundProcess.Start("sh",
        [
            "-c", "export JOURNAL_STREAM=$(stat -L -c %d:%i /proc/$$/fd/1); exec \"$@\"", "sh",
            .. ServeCommandLine(port, []),
        ]);
        await WaitForHttpAsync(serve, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/no-such-page"))).StatusCode);

        // An error: a reload of a file with a mistake is refused (and the server keeps running).
        await File.WriteAllTextAsync(Path.Combine(_home, "sidus.toml"), "inventory-poll = \"often\"\n");
        serve.Signal(BackgroundProcess.SigHup);
        Assert.True(await serve.WaitForOutputAsync("<3>Sidus.Server[212] Configuration reload refused", TimeSpan.FromSeconds(20)), serve.Output);
        Assert.True(await serve.WaitForOutputAsync("<4>Sidus.Server.Http[112] Refused GET /no-such-page", TimeSpan.FromSeconds(10)), serve.Output);
        Assert.Contains("<6>Sidus.Server[150] HTTP listening on 127.0.0.1:" + port, serve.Output, StringComparison.Ordinal);
        Assert.StartsWith("ok", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz")), StringComparison.Ordinal);

        var lines = serve.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.Matches(@"^<[0-7]>\S", l));
        Assert.DoesNotContain('\u001b', serve.Output);
    }

    [Fact]
    public async Task JournalStreamOfAnotherStream_KeepsTheConsoleFormat()
    {
        var port = FreePort();
        using var serve = StartServe(port, ["JOURNAL_STREAM=1:2"]);
        await WaitForHttpAsync(serve, port);
        Assert.True(await serve.WaitForOutputAsync("HTTP listening on", TimeSpan.FromSeconds(10)), serve.Output);
        Assert.Matches(@"(?m)^\d\d:\d\d:\d\d info: Sidus.Server\[150\] HTTP listening on", serve.Output);
        Assert.DoesNotContain("<6>", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogLevelWarning_HidesInformation_ShowsWarnings()
    {
        var port = FreePort();
        using var serve = StartServe(port, [], "--log-level", "warning", "--log-format", "journal");
        await WaitForHttpAsync(serve, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await http.GetAsync(new Uri($"http://127.0.0.1:{port}/no-such-page"));
        Assert.True(await serve.WaitForOutputAsync("<4>Sidus.Server.Http[112] Refused GET /no-such-page", TimeSpan.FromSeconds(10)), serve.Output);
        Assert.DoesNotContain("<6>", serve.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP listening on", serve.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Started as nohup starts it (SIGHUP ignored, which the runtime keeps): the server says that `kill -HUP` will not
    /// reload it, and a SIGHUP neither reloads nor ends it.
    /// </summary>
    [Fact]
    public async Task HangupIgnoredAtStart_SaidOnce_SighupNeitherReloadsNorEnds()
    {
        var port = FreePort();
        using var serve = StartServe(port, ["--ignore-signal=HUP"]);
        await WaitForHttpAsync(serve, port);
        Assert.True(await serve.WaitForOutputAsync("SIGHUP is ignored by this process", TimeSpan.FromSeconds(10)), serve.Output);
        serve.Signal(BackgroundProcess.SigHup);
        await Task.Delay(TimeSpan.FromSeconds(1));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.StartsWith("ok", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz")), StringComparison.Ordinal);
        Assert.DoesNotContain("Reload asked", serve.Output, StringComparison.Ordinal);

        // Started as systemd starts it: not a word of it.
        var other = FreePort();
        using var plain = StartServe(other, []);
        await WaitForHttpAsync(plain, other);
        Assert.DoesNotContain("SIGHUP is ignored", plain.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadLogLevel_OneClearLine_ExitNonZero()
    {
        using var serve = StartServe(FreePort(), [], "--log-level", "loud", "--log-format", "journal");
        Assert.True(serve.WaitForExit(StartLimit), serve.Output);
        Assert.Equal(1, serve.ExitCode);
        Assert.Equal("<3>sidus: --log-level: 'loud' is not a log level: use trace, debug, info, warning, error", serve.Output.Trim());
    }

    [Fact]
    public async Task FailedStart_UnderNotifySocket_SaysWhyInStatus_ExitNonZero()
    {
        using var manager = new NotifySocket(abstractName: false);
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        using var serve = StartServe(port, [$"NOTIFY_SOCKET={manager.Address}"]);
        Assert.True(serve.WaitForExit(StartLimit), serve.Output);
        Assert.Equal(1, serve.ExitCode);
        // The error names who holds the port: this test process.
        var error = serve.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith($"sidus: HTTP port {port} on 127.0.0.1 is already held by ", StringComparison.Ordinal));
        Assert.True(error is not null, serve.Output);
        Assert.Contains($"(pid {Environment.ProcessId}", error, StringComparison.Ordinal);
        var status = await manager.WaitForAsync("STATUS=failed: " + error["sidus: ".Length..], TimeSpan.FromSeconds(5));
        Assert.True(status is not null, string.Join("\n", manager.Messages));
        Assert.DoesNotContain(manager.Messages, m => m.Text.Contains("READY=1", StringComparison.Ordinal));
    }

    private BackgroundProcess StartServe(int port, string[] environment, params string[] extra) =>
        BackgroundProcess.Start("env", ["-u", "JOURNAL_STREAM", "-u", "NOTIFY_SOCKET", "-u", "WATCHDOG_USEC", .. environment, .. ServeCommandLine(port, extra)]);

    private string[] ServeCommandLine(int port, string[] extra) =>
    [
        "dotnet", Path.Combine(AppContext.BaseDirectory, "sidus.dll"), "--home", _home, "serve", "--dhcp", "off", "--no-tftp", "--no-nbd",
        "--listen", "127.0.0.1", "--http-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra,
    ];

    private static async Task WaitForHttpAsync(BackgroundProcess serve, int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + StartLimit;
        while (DateTime.UtcNow < deadline && !serve.HasExited)
        {
            try
            {
                await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200);
            }
        }

        Assert.Fail("sidus serve did not answer HTTP:\n" + serve.Output);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
