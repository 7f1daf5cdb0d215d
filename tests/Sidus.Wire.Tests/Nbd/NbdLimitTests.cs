using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Connections;
using Sidus.Wire.Nbd;
using Sidus.Wire.Tests.Nbd.Support;
using Sidus.Wire.Tests.Tftp.Support;

namespace Sidus.Wire.Tests.Nbd;

/// <summary>
/// What keeps NBD clients from holding the server's connections (issue 11, finding 7): a per-address limit and the
/// server-wide budget close new connections at once; a handshake dragged out byte by byte ends in bounded time;
/// a connection that chose its export stays open however idle (a shared node's root lives on it).
/// </summary>
public sealed class NbdLimitTests
{
    private static readonly IPAddress Second = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress Third = IPAddress.Parse("127.0.0.3");

    [Fact]
    public async Task Gate_PerSourceAndBudget_RefuseAtOnceAndFreePlacesComeBack()
    {
        var budget = new ConnectionBudget(3);
        var log = new ListLogger();
        await using var server = new NbdTestServer(configure: o => o with { Gate = new ConnectionGate("NBD", 2, budget, log) });

        var a = await RawNbdClient.ConnectAsync(server.Port);
        using var b = await RawNbdClient.ConnectAsync(server.Port);
        // A third from 127.0.0.1: closed before the greeting.
        Assert.True(await ClosedWithoutGreetingAsync(IPAddress.Loopback, server.Port));
        using var c = await RawNbdClient.ConnectAsync(server.Port, source: Second);
        // The budget (3) is spent: another address is refused too.
        Assert.True(await ClosedWithoutGreetingAsync(Third, server.Port));
        Assert.True(log.Contains(LogLevel.Warning, "NBD refused 1 connection(s) since the last such line, the latest from 127.0.0.1"), log.Dump());

        a.Dispose();
        await WaitUntilAsync(() => budget.Open == 2);
        using var d = await RawNbdClient.ConnectAsync(server.Port, source: Third);
        Assert.Equal(3, budget.Open);
    }

    [Fact]
    public async Task Handshake_DraggedOutByteByByte_ClosedWithinTheWholeLimit()
    {
        await using var server = new NbdTestServer(TimeSpan.FromSeconds(2), o => o with { HandshakeTimeout = TimeSpan.FromSeconds(3) });
        using var slow = await RawNbdClient.ConnectAsync(server.Port);
        var clock = Stopwatch.StartNew();
        var sent = 0;
        try
        {
            // An option header sent one byte a second: each step is within its 2 s, the whole is not.
            while (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                await slow.SendAsync(new byte[] { 0x49 });
                sent++;
                await Task.Delay(TimeSpan.FromSeconds(0.9));
            }
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // Closed by the server: what this test waits for.
        }

        Assert.True(await slow.ClosedByServerAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"held for {clock.Elapsed} ({sent} bytes)");
        Assert.True(server.Log.Contains(LogLevel.Warning, "no handshake in time"), server.Log.Dump());
    }

    [Fact]
    public async Task Transmission_IdleLongerThanTheHandshakeLimit_StaysOpenAndServes()
    {
        await using var server = new NbdTestServer(TimeSpan.FromSeconds(1), o => o with { HandshakeTimeout = TimeSpan.FromSeconds(1) });
        using var node = await RawNbdClient.ConnectAsync(server.Port);
        await node.SendOptionAsync(NbdOption.ExportName, "disk"u8);
        var answer = await node.ReadAsync(NbdProtocol.ExportNameReplyLength);
        Assert.Equal((ulong)NbdTestServer.ExportLength, BinaryPrimitives.ReadUInt64BigEndian(answer));

        await Task.Delay(TimeSpan.FromSeconds(3));
        await node.SendRequestAsync(NbdCommand.Read, 7, 4096, 16);
        Assert.Equal((NbdError.None, 7ul), await node.ReadSimpleReplyAsync());
        Assert.Equal(server.Content[4096..4112], await node.ReadAsync(16));
    }

    private static async Task<bool> ClosedWithoutGreetingAsync(IPAddress source, int port)
    {
        using var tcp = new TcpClient(new IPEndPoint(source, 0));
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var one = new byte[1];
        try
        {
            return await tcp.GetStream().ReadAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(10)) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the condition never held");
            await Task.Delay(20);
        }
    }
}
