using System.Text;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Tests.Tftp.Support;
using Sidus.Wire.Tftp;

namespace Sidus.Wire.Tests.Tftp;

/// <summary>
/// Hostile requests from a raw socket are refused with an ERROR and logged, while a real client's transfer that
/// runs at the same time completes byte-exact.
/// </summary>
[Collection(TftpNetworkCollection.Name)]
public class TftpHostileRequestTests
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(5);

    private static byte[] Request(ushort opcode, params string[] fields) =>
        [(byte)(opcode >> 8), (byte)opcode, .. Encoding.Latin1.GetBytes(string.Join('\0', fields) + "\0")];

    public static TheoryData<string, byte[], TftpErrorCode> HostileRequests() => new()
    {
        { "dot-dot slash", Request(1, "../../etc/passwd", "octet"), TftpErrorCode.AccessViolation },
        { "dot-dot backslash", Request(1, "..\\..\\etc\\passwd", "octet"), TftpErrorCode.AccessViolation },
        { "dot-dot inside", Request(1, "boot/../../etc/passwd", "octet"), TftpErrorCode.AccessViolation },
        { "absolute", Request(1, "/etc/passwd", "octet"), TftpErrorCode.AccessViolation },
        { "absolute backslash", Request(1, "\\etc\\passwd", "octet"), TftpErrorCode.AccessViolation },
        { "symlink out of root", Request(1, "escape", "octet"), TftpErrorCode.AccessViolation },
        { "through directory symlink", Request(1, "etcdir/passwd", "octet"), TftpErrorCode.AccessViolation },
        { "fifo", Request(1, "fifo", "octet"), TftpErrorCode.AccessViolation },
        { "directory", Request(1, "boot", "octet"), TftpErrorCode.AccessViolation },
        { "missing", Request(1, "missing.bin", "octet"), TftpErrorCode.FileNotFound },
        { "write request", Request(2, "upload.bin", "octet"), TftpErrorCode.AccessViolation },
        { "mail mode", Request(1, "boot/ok.bin", "mail"), TftpErrorCode.IllegalOperation },
        { "blksize 0", Request(1, "boot/ok.bin", "octet", "blksize", "0"), TftpErrorCode.OptionNegotiationFailed },
        { "blksize 7", Request(1, "boot/ok.bin", "octet", "blksize", "7"), TftpErrorCode.OptionNegotiationFailed },
        { "blksize 65465", Request(1, "boot/ok.bin", "octet", "blksize", "65465"), TftpErrorCode.OptionNegotiationFailed },
        { "blksize overflow", Request(1, "boot/ok.bin", "octet", "blksize", "99999999999"), TftpErrorCode.OptionNegotiationFailed },
        { "windowsize 0", Request(1, "boot/ok.bin", "octet", "windowsize", "0"), TftpErrorCode.OptionNegotiationFailed },
        { "windowsize 65536", Request(1, "boot/ok.bin", "octet", "windowsize", "65536"), TftpErrorCode.OptionNegotiationFailed },
        { "duplicate option", Request(1, "boot/ok.bin", "octet", "tsize", "0", "TSIZE", "0"), TftpErrorCode.OptionNegotiationFailed },
        { "unknown mode", Request(1, "boot/ok.bin", "binary"), TftpErrorCode.IllegalOperation },
        { "control character", Request(1, "boot/\u0001ok.bin", "octet"), TftpErrorCode.IllegalOperation },
        { "embedded NUL", Request(1, "boot/ok.bin\0../../etc/passwd", "octet"), TftpErrorCode.IllegalOperation },
        { "truncated name", [0, 1, (byte)'a', (byte)'b'], TftpErrorCode.IllegalOperation },
        { "truncated option", [.. Request(1, "boot/ok.bin", "octet"), .. "blksize"u8], TftpErrorCode.IllegalOperation },
        { "longer than 512", Request(1, new string('a', 600), "octet"), TftpErrorCode.IllegalOperation },
        { "long name", Request(1, new string('a', 300), "octet"), TftpErrorCode.AccessViolation },
        { "not UTF-8", [0, 1, 0xc3, 0x28, 0, .. "octet"u8, 0], TftpErrorCode.AccessViolation },
    };

    [Fact]
    public async Task HostileRequests_DuringARealTransfer_AreRefusedAndLoggedWhileItCompletes()
    {
        await using var server = TftpTestServer.Start();
        using var output = new TestDirectory("sidus-tftp-out-");
        PrepareHostileRoot(server.Root);
        var content = server.Root.WriteRandomFile("boot/ok.bin", 12 << 20, seed: 12);

        // tftp-hpa in lock-step 512-byte blocks: 24,576 round trips, long enough to overlap every hostile request.
        var transfer = TftpClients.GetAsync(TftpClients.Kind.TftpHpa, server.Port, "boot/ok.bin", output.Combine("ok.bin"));
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "RRQ boot/ok.bin", TimeSpan.FromSeconds(10)), server.Log.Dump());

        using var attacker = new RawTftpClient();
        foreach (var row in HostileRequests())
        {
            var name = (string)row[0];
            var packet = (byte[])row[1];
            var expected = (TftpErrorCode)row[2];
            await attacker.SendAsync(packet, server.Endpoint);
            var reply = await attacker.ReceiveAsync(ReplyTimeout);
            Assert.True(reply.HasValue, $"{name}: no reply\n{server.Log.Dump()}");
            Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeError(reply.Value.Buffer, out var code, out var message));
            Assert.True(expected == code, $"{name}: expected {expected}, got {code} \"{message}\"");
        }

        var result = await transfer;
        Assert.False(result.TimedOut, result.ToString());
        Assert.Equal(TftpClients.Sha256Of(content), TftpClients.Sha256Of(output.Combine("ok.bin")));

        var warnings = server.Log.Entries.Count(e => e.Level == LogLevel.Warning && (e.Message.Contains("refused", StringComparison.Ordinal) || e.Message.Contains("malformed", StringComparison.Ordinal)));
        Assert.True(warnings >= HostileRequests().Count, $"{warnings} refusals logged\n{server.Log.Dump()}");
        Assert.True(server.Log.Contains(LogLevel.Warning, "refused ../../etc/passwd"), server.Log.Dump());
        Assert.True(server.Log.Contains(LogLevel.Warning, "write requests are refused"), server.Log.Dump());
        Assert.True(server.Log.Contains(LogLevel.Warning, "refused escape"), server.Log.Dump());
        Assert.True(server.Log.Contains(LogLevel.Information, "sent boot/ok.bin"), server.Log.Dump());
    }

    [Theory]
    [MemberData(nameof(HostileRequests))]
    public async Task HostileRequest_Alone_GetsItsErrorCode(string name, byte[] packet, TftpErrorCode expected)
    {
        await using var server = TftpTestServer.Start();
        PrepareHostileRoot(server.Root);
        server.Root.WriteRandomFile("boot/ok.bin", 100, seed: 1);
        using var attacker = new RawTftpClient();

        await attacker.SendAsync(packet, server.Endpoint);

        var reply = await attacker.ReceiveAsync(ReplyTimeout);
        Assert.True(reply.HasValue, $"{name}: no reply");
        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeError(reply.Value.Buffer, out var code, out _));
        Assert.Equal(expected, code);
        Assert.Contains(server.Log.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal(0, await server.SettledActiveTransfersAsync());
    }

    [Fact]
    public async Task GarbageAndStrayPackets_OnRequestPort_GetNoReplyAndServerKeepsServing()
    {
        await using var server = TftpTestServer.Start();
        using var output = new TestDirectory("sidus-tftp-out-");
        var content = server.Root.WriteRandomFile("f.bin", 5000, seed: 5);
        using var attacker = new RawTftpClient();

        await attacker.SendAsync([0x00], server.Endpoint);
        await attacker.SendAsync([0x00, 0x04, 0x00, 0x01], server.Endpoint); // stray ACK
        await attacker.SendAsync([0x00, 0x05, 0x00, 0x00, 0x00], server.Endpoint); // stray ERROR
        await attacker.SendAsync([0x00, 0x03, 0x00, 0x01, 0x41], server.Endpoint); // stray DATA
        await attacker.SendAsync(new byte[1500], server.Endpoint);

        Assert.Null(await attacker.ReceiveAsync(TimeSpan.FromMilliseconds(500)));
        Assert.True(server.Log.Contains(LogLevel.Warning, "malformed"), server.Log.Dump());
        var result = await TftpClients.GetAsync(TftpClients.Kind.CurlBlksize, server.Port, "f.bin", output.Combine("f.bin"));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(TftpClients.Sha256Of(content), TftpClients.Sha256Of(output.Combine("f.bin")));
    }

    private static void PrepareHostileRoot(TestDirectory root)
    {
        Directory.CreateDirectory(root.Combine("boot"));
        File.CreateSymbolicLink(root.Combine("escape"), "/etc/passwd");
        Directory.CreateSymbolicLink(root.Combine("etcdir"), "/etc");
        var mkfifo = System.Diagnostics.Process.Start("mkfifo", root.Combine("fifo"));
        Assert.True(mkfifo.WaitForExit(10_000));
        Assert.Equal(0, mkfifo.ExitCode);
        Assert.True(File.Exists("/etc/passwd"), "the escape target must exist for the test to mean anything");
    }
}
