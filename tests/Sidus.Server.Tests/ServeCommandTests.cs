using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sidus.Server.Tests;

/// <summary>The `sidus serve` command line as an administrator types it.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "sidus-serve-cli-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [Fact]
    public async Task DhcpOff_WithoutAnInterface_ServesHttp()
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "sidus.dll"), "--home", _home, "serve", "--dhcp", "off", "--no-tftp", "--listen", "127.0.0.1", "--http-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }

        using var serve = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        serve.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        serve.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        serve.BeginOutputReadLine();
        serve.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            string? body = null;
            for (var i = 0; i < 100 && body is null && !serve.HasExited; i++)
            {
                try
                {
                    body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200);
                }
            }

            Assert.True(body is not null, "sidus serve --dhcp off did not answer:\n" + output);
            Assert.StartsWith("ok", body, StringComparison.Ordinal);
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
            }

            await serve.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task DatabaseInSidusToml_CliAndServeReadTheSameInventory()
    {
        // The inventory lives where sidus.toml says, not in <home>/inventory.db: both the CLI and the server must use it.
        Directory.CreateDirectory(_home);
        var elsewhere = Path.Combine(_home + "-db", "cluster.db");
        Directory.CreateDirectory(Path.GetDirectoryName(elsewhere)!);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(_home, "sidus.toml"), $"database = \"{elsewhere}\"\n[api]\npublic-reads = true\n");
            var add = await Tools.SidusAsync(_home, "node", "add", "n65", "--mac", "52:54:00:00:06:05");
            Assert.True(add.ExitCode == 0, add.Err);
            Assert.True(File.Exists(elsewhere), "node add wrote the inventory sidus.toml names");
            Assert.False(File.Exists(Path.Combine(_home, "inventory.db")), "node add must not make <home>/inventory.db");
            var list = await Tools.SidusAsync(_home, "node", "list", "--json");
            Assert.Contains("n65", list.Text, StringComparison.Ordinal);

            var port = FreePort();
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "sidus.dll"), "--home", _home, "serve", "--dhcp", "off", "--no-tftp", "--no-nbd", "--listen", "127.0.0.1", "--http-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            {
                start.ArgumentList.Add(a);
            }

            using var serve = Process.Start(start)!;
            var output = new System.Text.StringBuilder();
            serve.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            serve.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            serve.BeginOutputReadLine();
            serve.BeginErrorReadLine();
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                string? body = null;
                for (var i = 0; i < 100 && body is null && !serve.HasExited; i++)
                {
                    try
                    {
                        body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/api/nodes"));
                    }
                    catch (HttpRequestException)
                    {
                        await Task.Delay(200);
                    }
                }

                Assert.True(body is not null, "sidus serve did not answer:\n" + output);
                using var doc = System.Text.Json.JsonDocument.Parse(body);
                var served = doc.RootElement.EnumerateArray().Select(n => n.GetProperty("name").GetString()).ToList();
                Assert.Equal(["n65"], served);
            }
            finally
            {
                if (!serve.HasExited)
                {
                    serve.Kill(entireProcessTree: true);
                }

                await serve.WaitForExitAsync();
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(elsewhere)!, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
