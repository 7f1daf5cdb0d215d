using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Tests.Nbd.Support;
using Sidus.Wire.Tests.Tftp.Support;

namespace Sidus.Wire.Tests.Nbd;

/// <summary>The NBD server against libnbd's nbdinfo and nbdcopy (Debian libnbd-bin) over real loopback sockets.</summary>
public sealed class NbdRealClientTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Nbdinfo_List_ShowsExportWithDescription()
    {
        await using var server = new NbdTestServer();
        var r = await ExternalProcess.RunAsync("nbdinfo", ["--list", "--json", $"nbd://127.0.0.1:{server.Port}"], Limit);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = JsonDocument.Parse(r.Output);
        var export = Assert.Single(json.RootElement.GetProperty("exports").EnumerateArray());
        Assert.Equal(NbdTestServer.ExportName, export.GetProperty("export-name").GetString());
        Assert.Equal("random test bytes", export.GetProperty("description").GetString());
        Assert.Equal(NbdTestServer.ExportLength, export.GetProperty("export-size").GetInt64());
    }

    [Fact]
    public async Task Nbdinfo_Export_SizeAndReadOnlyFlags()
    {
        await using var server = new NbdTestServer();
        var r = await ExternalProcess.RunAsync("nbdinfo", ["--json", server.Uri], Limit);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = JsonDocument.Parse(r.Output);
        var export = Assert.Single(json.RootElement.GetProperty("exports").EnumerateArray());
        Assert.Equal(NbdTestServer.ExportLength, export.GetProperty("export-size").GetInt64());
        Assert.True(export.GetProperty("is_read_only").GetBoolean());
        Assert.True(export.GetProperty("can_flush").GetBoolean());
        Assert.True(export.GetProperty("can_multi_conn").GetBoolean());
        Assert.False(export.GetProperty("can_trim").GetBoolean());
        Assert.Equal(4096, export.GetProperty("block_size_preferred").GetInt64());
        Assert.Equal("newstyle-fixed", json.RootElement.GetProperty("protocol").GetString());
    }

    [Fact]
    public async Task Nbdinfo_UnknownExport_FailsWithServerMessage()
    {
        await using var server = new NbdTestServer();
        var r = await ExternalProcess.RunAsync("nbdinfo", [$"nbd://127.0.0.1:{server.Port}/nosuch"], Limit);
        Assert.NotEqual(0, r.ExitCode);
        // libnbd shows NBD_REP_ERR_UNKNOWN as ENOENT; the server's own words are in its log.
        Assert.True(r.Error.Contains("No such file or directory for export: nosuch", StringComparison.Ordinal), r.Error);
        Assert.True(server.Log.Contains(LogLevel.Information, "no export named 'nosuch'"), server.Log.Dump());
        Assert.Equal(0, server.OpenExports);
    }

    [Fact]
    public async Task Nbdcopy_WholeExport_SameBytesAndLogged()
    {
        await using var server = new NbdTestServer();
        var target = Path.Combine(server.DirectoryPath, "copy.img");
        var r = await ExternalProcess.RunAsync("nbdcopy", ["--connections=4", "--requests=8", server.Uri, target], Limit);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(SHA256.HashData(server.Content), SHA256.HashData(await File.ReadAllBytesAsync(target)));
        await WaitAsync(() => server.OpenExports == 0 && server.Server.ActiveConnections == 0, "every connection closed");
        Assert.True(server.Log.Contains(LogLevel.Information, "opened export disk"), server.Log.Dump());
        Assert.True(server.Log.Contains(LogLevel.Information, "closed export disk"), server.Log.Dump());
        var total = server.Log.Entries.Where(e => e.Message.Contains("closed export disk", StringComparison.Ordinal))
            .Sum(e => long.Parse(e.Message.Split(": ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(NbdTestServer.ExportLength, total);
    }

    [Fact]
    public async Task Nbdcopy_EightClientsAtOnce_AllGetTheSameBytes()
    {
        await using var server = new NbdTestServer();
        var copies = Enumerable.Range(0, 8).Select(i => Path.Combine(server.DirectoryPath, $"copy{i}.img")).ToArray();
        var results = await Task.WhenAll(copies.Select(c => ExternalProcess.RunAsync("nbdcopy", ["--connections=2", server.Uri, c], Limit)));
        var expected = SHA256.HashData(server.Content);
        foreach (var (r, c) in results.Zip(copies))
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(expected, SHA256.HashData(await File.ReadAllBytesAsync(c)));
        }

        await WaitAsync(() => server.OpenExports == 0, "every export closed");
    }

    internal static async Task WaitAsync(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, what + " did not happen within 20 s");
            await Task.Delay(50);
        }
    }
}
