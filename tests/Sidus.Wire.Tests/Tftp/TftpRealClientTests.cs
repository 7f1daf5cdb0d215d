using Microsoft.Extensions.Logging;
using Sidus.Wire.Tests.Tftp.Support;
using Kind = Sidus.Wire.Tests.Tftp.Support.TftpClients.Kind;

namespace Sidus.Wire.Tests.Tftp;

/// <summary>Real clients (tftp-hpa, atftp, curl) fetch files from a real TftpServer on loopback.</summary>
[Collection(TftpNetworkCollection.Name)]
public class TftpRealClientTests
{
    // Sizes around the block edges: empty, one byte, one short of / exactly / one past a 512 block, exact multiples
    // of 512 and of 1468 (those end with a zero-length block), and a few larger odd sizes.
    private static readonly int[] Sizes = [0, 1, 511, 512, 513, 1536, 1468, 2936, 4405, 100_000, 1_048_577];

    public static TheoryData<Kind, int> ClientsAndSizes()
    {
        var data = new TheoryData<Kind, int>();
        foreach (var kind in Enum.GetValues<Kind>())
        {
            foreach (var size in Sizes)
            {
                data.Add(kind, size);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ClientsAndSizes))]
    public async Task Get_RealClient_FileIsByteExact(Kind kind, int size)
    {
        await using var server = TftpTestServer.Start();
        using var output = new TestDirectory("sidus-tftp-out-");
        var content = server.Root.WriteRandomFile("boot/file.bin", size, seed: size);
        var local = output.Combine("file.bin");

        var result = await TftpClients.GetAsync(kind, server.Port, "boot/file.bin", local);

        Assert.False(result.TimedOut, result.ToString());
        Assert.True(File.Exists(local), $"{kind} wrote nothing: {result}\n{server.Log.Dump()}");
        Assert.Equal(TftpClients.Sha256Of(content), TftpClients.Sha256Of(local));
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, $"sent boot/file.bin to 127.0.0.1:", TimeSpan.FromSeconds(5)), server.Log.Dump());
    }

    /// <summary>40 MiB in 512-byte blocks is 81,920 blocks: the block number wraps past 65535 (to 0) mid-transfer.</summary>
    [Theory]
    [InlineData(Kind.TftpHpa)]
    [InlineData(Kind.Curl)]
    [InlineData(Kind.AtftpWindow512)]
    public async Task Get_MoreThan65535Blocks_BlockNumberRollsOver(Kind kind)
    {
        await using var server = TftpTestServer.Start();
        using var output = new TestDirectory("sidus-tftp-out-");
        var content = server.Root.WriteRandomFile("big.img", (40 << 20) + 77, seed: 40);
        var local = output.Combine("big.img");

        var result = await TftpClients.GetAsync(kind, server.Port, "big.img", local, TimeSpan.FromSeconds(240));

        Assert.False(result.TimedOut, result.ToString());
        Assert.Equal(TftpClients.Sha256Of(content), TftpClients.Sha256Of(local));
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "sent big.img", TimeSpan.FromSeconds(5)), server.Log.Dump());
    }

    [Fact]
    public async Task Get_WindowsizeRequested_IsNegotiatedAndLogged()
    {
        await using var server = TftpTestServer.Start();
        using var output = new TestDirectory("sidus-tftp-out-");
        var content = server.Root.WriteRandomFile("w.bin", 3_000_000, seed: 3);

        var result = await TftpClients.GetAsync(Kind.AtftpWindow, server.Port, "w.bin", output.Combine("w.bin"));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(TftpClients.Sha256Of(content), TftpClients.Sha256Of(output.Combine("w.bin")));
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "blksize 1468, windowsize 16", TimeSpan.FromSeconds(5)), server.Log.Dump());
    }

    [Fact]
    public async Task Get_NetasciiMode_TftpHpaRestoresTheTextFile()
    {
        await using var server = TftpTestServer.Start();
        using var output = new TestDirectory("sidus-tftp-out-");
        var text = "line one\nline two\r\nbare CR\rend\n"u8.ToArray();
        await File.WriteAllBytesAsync(server.Root.Combine("text.cfg"), text);

        var result = await ExternalProcess.RunAsync(
            "tftp", ["-m", "ascii", "127.0.0.1", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", "get", "text.cfg", output.Combine("text.cfg")], TimeSpan.FromSeconds(30));

        Assert.False(result.TimedOut, result.ToString());
        Assert.Equal(text, await File.ReadAllBytesAsync(output.Combine("text.cfg")));
        Assert.True(server.Log.Contains(LogLevel.Information, "mode Netascii"), server.Log.Dump());
    }

    [Fact]
    public async Task Get_MissingFile_RealClientsReportNotFound()
    {
        await using var server = TftpTestServer.Start();
        using var output = new TestDirectory("sidus-tftp-out-");

        var curl = await TftpClients.GetAsync(Kind.CurlBlksize, server.Port, "absent.bin", output.Combine("a"));
        var atftp = await TftpClients.GetAsync(Kind.AtftpBlksize, server.Port, "absent.bin", output.Combine("b"));

        Assert.NotEqual(0, curl.ExitCode);
        Assert.NotEqual(0, atftp.ExitCode);
        Assert.True(server.Log.Contains(LogLevel.Warning, "refused absent.bin"), server.Log.Dump());
    }
}
