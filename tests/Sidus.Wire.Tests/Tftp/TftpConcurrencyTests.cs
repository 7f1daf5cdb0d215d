using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Tests.Tftp.Support;

namespace Sidus.Wire.Tests.Tftp;

[Collection(TftpNetworkCollection.Name)]
public class TftpConcurrencyTests
{
    /// <summary>
    /// 200 curl processes started at once (a rack rebooting) each fetch a file; all must finish byte-exact within a
    /// bounded time and the server must end with no transfer left.
    /// </summary>
    [Fact]
    public async Task Get_200ConcurrentCurlClients_AllCompleteByteExact()
    {
        const int Clients = 200;
        await using var server = TftpTestServer.Start();
        using var output = new TestDirectory("sidus-tftp-out-");
        var files = Enumerable.Range(0, 4).Select(i => server.Root.WriteRandomFile($"f{i}.bin", 300_000 + (i * 1468), seed: 100 + i)).ToArray();
        var expected = files.Select(TftpClients.Sha256Of).ToArray();
        var clock = Stopwatch.StartNew();

        var runs = Enumerable.Range(0, Clients)
            .Select(i => TftpClients.GetAsync(i % 2 == 0 ? TftpClients.Kind.CurlBlksize : TftpClients.Kind.Curl, server.Port, $"f{i % 4}.bin", output.Combine($"out{i}.bin"), TimeSpan.FromSeconds(150)))
            .ToArray();
        var results = await Task.WhenAll(runs);

        for (var i = 0; i < Clients; i++)
        {
            Assert.False(results[i].TimedOut, $"client {i}: {results[i]}");
            Assert.True(results[i].ExitCode == 0, $"client {i}: {results[i]}");
            Assert.Equal(expected[i % 4], TftpClients.Sha256Of(output.Combine($"out{i}.bin")));
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(150), $"took {clock.Elapsed}");
        Assert.Equal(Clients, server.Log.Entries.Count(e => e.Level == LogLevel.Information && e.Message.Contains(" sent f", StringComparison.Ordinal)));
        Assert.Equal(0, await server.SettledActiveTransfersAsync());
    }
}
