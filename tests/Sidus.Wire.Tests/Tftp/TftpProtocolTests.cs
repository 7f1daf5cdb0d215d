using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Tests.Tftp.Support;
using Sidus.Wire.Tftp;

namespace Sidus.Wire.Tests.Tftp;

/// <summary>
/// Protocol behaviour no well-behaved client will provoke on purpose — lost ACKs, wrong TIDs, duplicate and partial
/// ACKs, aborted probes, repeated requests — driven from a raw socket against the real server.
/// </summary>
[Collection(TftpNetworkCollection.Name)]
public class TftpProtocolTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private static TftpServerOptions FastRetransmit(TftpServerOptions o) => new()
    {
        Endpoint = o.Endpoint,
        RootDirectory = o.RootDirectory,
        RetransmitTimeout = TimeSpan.FromMilliseconds(200),
        MaxRetransmitTimeout = TimeSpan.FromMilliseconds(800),
        MaxRetransmits = 3,
    };

    private static async Task<(ushort Block, byte[] Payload, IPEndPoint From)> ExpectDataAsync(RawTftpClient client, TimeSpan timeout)
    {
        var packet = await client.ReceiveAsync(timeout) ?? throw new Xunit.Sdk.XunitException("no DATA within " + timeout);
        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeData(packet.Buffer, out var block, out var payload));
        return (block, payload.ToArray(), packet.RemoteEndPoint);
    }

    [Fact]
    public async Task Transfer_FirstBlockLost_NotResentButTheRepeatedRequestCompletes()
    {
        await using var server = TftpTestServer.Start(FastRetransmit);
        var content = server.Root.WriteRandomFile("f.bin", 1300, seed: 9);
        using var client = new RawTftpClient();

        await client.SendRequestAsync(server.Endpoint, "f.bin");
        var lost = await ExpectDataAsync(client, Wait);
        // DATA 1 is "lost": the server does not send it again (the request could be forged)...
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromSeconds(2)));
        // ...and the client's own retry of its request, as every client does, starts the transfer again.
        await client.SendRequestAsync(server.Endpoint, "f.bin");
        var first = await ExpectDataAsync(client, Wait);
        Assert.Equal((ushort)1, lost.Block);
        Assert.Equal((ushort)1, first.Block);
        Assert.Equal(lost.Payload, first.Payload);

        var received = new List<byte>(first.Payload);
        await client.SendAckAsync(first.From, 1);
        for (ushort block = 2; block <= 3; block++)
        {
            var data = await ExpectDataAsync(client, Wait);
            Assert.Equal(block, data.Block);
            received.AddRange(data.Payload);
            await client.SendAckAsync(first.From, block);
        }

        Assert.Equal(content, received.ToArray());
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "sent f.bin", Wait), server.Log.Dump());
    }

    [Fact]
    public async Task Transfer_BlockLostAfterTheClientAnswered_IsResent()
    {
        await using var server = TftpTestServer.Start(FastRetransmit);
        var content = server.Root.WriteRandomFile("f.bin", 1300, seed: 29);
        using var client = new RawTftpClient();

        await client.SendRequestAsync(server.Endpoint, "f.bin");
        var first = await ExpectDataAsync(client, Wait);
        await client.SendAckAsync(first.From, 1);
        var second = await ExpectDataAsync(client, Wait);
        // The ACK of block 2 is "lost": the client has spoken, so block 2 comes again.
        var again = await ExpectDataAsync(client, Wait);
        Assert.Equal((ushort)2, second.Block);
        Assert.Equal((ushort)2, again.Block);
        await client.SendAckAsync(first.From, 2);
        var last = await ExpectDataAsync(client, Wait);
        await client.SendAckAsync(first.From, 3);

        Assert.Equal(content, (byte[])[.. first.Payload, .. second.Payload, .. last.Payload]);
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "1 retransmissions", Wait), server.Log.Dump());
    }

    [Fact]
    public async Task Transfer_DuplicateAck_IsNotAnsweredWithADuplicateBlock()
    {
        await using var server = TftpTestServer.Start(o => new TftpServerOptions { Endpoint = o.Endpoint, RootDirectory = o.RootDirectory, RetransmitTimeout = TimeSpan.FromSeconds(3) });
        server.Root.WriteRandomFile("f.bin", 1300, seed: 10);
        using var client = new RawTftpClient();

        await client.SendRequestAsync(server.Endpoint, "f.bin");
        var first = await ExpectDataAsync(client, Wait);
        await client.SendAckAsync(first.From, 1);
        await client.SendAckAsync(first.From, 1);
        await client.SendAckAsync(first.From, 1);
        var second = await ExpectDataAsync(client, Wait);

        Assert.Equal((ushort)2, second.Block);
        // Sorcerer's Apprentice: the two extra ACK 1 must not make block 2 go out again (retransmit is 3 s away).
        Assert.Null(await client.ReceiveAsync(TimeSpan.FromMilliseconds(700)));
    }

    [Fact]
    public async Task Transfer_PacketFromWrongTid_GetsError5AndTransferContinues()
    {
        await using var server = TftpTestServer.Start();
        var content = server.Root.WriteRandomFile("f.bin", 700, seed: 11);
        using var client = new RawTftpClient();
        using var stranger = new RawTftpClient();

        await client.SendRequestAsync(server.Endpoint, "f.bin");
        var first = await ExpectDataAsync(client, Wait);
        await stranger.SendAckAsync(first.From, 1);
        var errorFrom = await stranger.ExpectErrorAsync(TftpErrorCode.UnknownTransferId, Wait);
        Assert.Equal(first.From, errorFrom);

        await client.SendAckAsync(first.From, 1);
        var second = await ExpectDataAsync(client, Wait);
        await client.SendAckAsync(first.From, 2);

        Assert.Equal(content, (byte[])[.. first.Payload, .. second.Payload]);
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "sent f.bin", Wait), server.Log.Dump());
        Assert.True(server.Log.Contains(LogLevel.Warning, "unknown transfer ID"), server.Log.Dump());
    }

    [Fact]
    public async Task Transfer_PartialWindowAck_ResendsFromTheBlockAfterIt()
    {
        await using var server = TftpTestServer.Start(o => new TftpServerOptions { Endpoint = o.Endpoint, RootDirectory = o.RootDirectory, RetransmitTimeout = TimeSpan.FromSeconds(3) });
        server.Root.WriteRandomFile("f.bin", 512 * 9 + 10, seed: 12);
        using var client = new RawTftpClient();

        await client.SendRequestAsync(server.Endpoint, "f.bin", new TftpOption("blksize", "512"), new TftpOption("windowsize", "4"));
        var oack = await client.ReceiveAsync(Wait) ?? throw new Xunit.Sdk.XunitException("no OACK");
        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeOptionAck(oack.Buffer, out var granted));
        Assert.Contains(new TftpOption("windowsize", "4"), granted!);
        await client.SendAckAsync(oack.RemoteEndPoint, 0);
        var window = new List<ushort>();
        for (var i = 0; i < 4; i++)
        {
            window.Add((await ExpectDataAsync(client, Wait)).Block);
        }

        // We "lost" block 3: acknowledge 2, and the server must send 3, 4, 5, 6.
        await client.SendAckAsync(oack.RemoteEndPoint, 2);
        var resent = new List<ushort>();
        for (var i = 0; i < 4; i++)
        {
            resent.Add((await ExpectDataAsync(client, Wait)).Block);
        }

        Assert.Equal(new ushort[] { 1, 2, 3, 4 }, window);
        Assert.Equal(new ushort[] { 3, 4, 5, 6 }, resent);
    }

    [Fact]
    public async Task SizeProbe_ErrorAfterOack_IsANormalEndAndTheRealRequestFollows()
    {
        await using var server = TftpTestServer.Start();
        using var output = new TestDirectory("sidus-tftp-out-");
        var content = server.Root.WriteRandomFile("snponly.efi", 200_000, seed: 13);
        using var firmware = new RawTftpClient();

        // What OVMF does: ask tsize with blksize and windowsize, read the size, abort.
        await firmware.SendRequestAsync(server.Endpoint, "snponly.efi", new TftpOption("tsize", "0"), new TftpOption("blksize", "1468"), new TftpOption("windowsize", "4"));
        var oack = await firmware.ReceiveAsync(Wait) ?? throw new Xunit.Sdk.XunitException("no OACK");
        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeOptionAck(oack.Buffer, out var granted));
        Assert.Contains(new TftpOption("tsize", "200000"), granted!);
        var abort = new byte[64];
        var n = TftpEncoder.WriteError(abort, TftpErrorCode.OptionNegotiationFailed, "size probe");
        await firmware.SendAsync(abort[..n], oack.RemoteEndPoint);

        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "a size probe", Wait), server.Log.Dump());
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Warning);
        var result = await TftpClients.GetAsync(TftpClients.Kind.AtftpWindow, server.Port, "snponly.efi", output.Combine("snponly.efi"));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(TftpClients.Sha256Of(content), TftpClients.Sha256Of(output.Combine("snponly.efi")));
    }

    [Fact]
    public async Task RepeatedRequest_FromSameHostAndPort_ReplacesTheOldTransfer()
    {
        await using var server = TftpTestServer.Start(o => new TftpServerOptions { Endpoint = o.Endpoint, RootDirectory = o.RootDirectory, RetransmitTimeout = TimeSpan.FromSeconds(3) });
        var content = server.Root.WriteRandomFile("f.bin", 600, seed: 14);
        using var client = new RawTftpClient();

        await client.SendRequestAsync(server.Endpoint, "f.bin");
        var old = await ExpectDataAsync(client, Wait);
        await client.SendRequestAsync(server.Endpoint, "f.bin");
        var fresh = await ExpectDataAsync(client, Wait);

        Assert.NotEqual(old.From, fresh.From);
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "replaces its transfer", Wait), server.Log.Dump());
        for (var i = 0; i < 100 && server.Server.ActiveTransfers != 1; i++)
        {
            await Task.Delay(20);
        }

        Assert.Equal(1, server.Server.ActiveTransfers);
        await client.SendAckAsync(fresh.From, 1);
        var second = await ExpectDataAsync(client, Wait);
        await client.SendAckAsync(fresh.From, 2);
        Assert.Equal(content, (byte[])[.. fresh.Payload, .. second.Payload]);
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "sent f.bin", Wait), server.Log.Dump());
    }

    [Fact]
    public async Task ServerStop_WhileTransferWaitsForAck_EndsTheTransferAtOnce()
    {
        // The transfer thread blocks in recvfrom for up to 30 s here: stopping must wake it, not wait it out.
        var server = TftpTestServer.Start(o => new TftpServerOptions
        {
            Endpoint = o.Endpoint,
            RootDirectory = o.RootDirectory,
            RetransmitTimeout = TimeSpan.FromSeconds(30),
            MaxRetransmitTimeout = TimeSpan.FromSeconds(30),
        });
        var stopped = TimeSpan.MaxValue;
        try
        {
            server.Root.WriteRandomFile("f.bin", 5000, seed: 23);
            using var client = new RawTftpClient();
            await client.SendRequestAsync(server.Endpoint, "f.bin");
            await ExpectDataAsync(client, Wait);
            Assert.Equal(1, server.Server.ActiveTransfers);
        }
        finally
        {
            var started = Stopwatch.GetTimestamp();
            await server.DisposeAsync();
            stopped = Stopwatch.GetElapsedTime(started);
        }

        // Far below the 30 s retransmit wait, which a stop that waited for the session would take.
        Assert.True(stopped < TimeSpan.FromSeconds(10), $"stopping took {stopped}");
        Assert.Equal(0, server.Server.ActiveTransfers);
    }

    [Fact]
    public async Task SessionLimit_Reached_FurtherRequestsGetBusyErrorAndAreLogged()
    {
        await using var server = TftpTestServer.Start(o => new TftpServerOptions { Endpoint = o.Endpoint, RootDirectory = o.RootDirectory, MaxSessions = 2, RetransmitTimeout = TimeSpan.FromSeconds(3) });
        server.Root.WriteRandomFile("f.bin", 5000, seed: 15);
        using var a = new RawTftpClient();
        using var b = new RawTftpClient();
        using var c = new RawTftpClient();

        await a.SendRequestAsync(server.Endpoint, "f.bin");
        await ExpectDataAsync(a, Wait);
        await b.SendRequestAsync(server.Endpoint, "f.bin");
        await ExpectDataAsync(b, Wait);
        await c.SendRequestAsync(server.Endpoint, "f.bin");

        await c.ExpectErrorAsync(TftpErrorCode.NotDefined, Wait);
        Assert.Equal(2, server.Server.ActiveTransfers);
        Assert.True(server.Log.Contains(LogLevel.Warning, "server busy"), server.Log.Dump());
    }

    [Fact]
    public async Task FinalAck_NeverComes_TransferEndsCleanly()
    {
        await using var server = TftpTestServer.Start(FastRetransmit);
        server.Root.WriteRandomFile("f.bin", 600, seed: 16);
        using var client = new RawTftpClient();

        await client.SendRequestAsync(server.Endpoint, "f.bin");
        var first = await ExpectDataAsync(client, Wait);
        await client.SendAckAsync(first.From, 1);
        var last = await ExpectDataAsync(client, Wait);

        Assert.Equal(88, last.Payload.Length);
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "the last ACK never came", TimeSpan.FromSeconds(10)), server.Log.Dump());
        Assert.Equal(0, await server.SettledActiveTransfersAsync());
    }

    [Fact]
    public async Task SilentClient_MidTransfer_IsGivenUpAfterBoundedRetries()
    {
        await using var server = TftpTestServer.Start(FastRetransmit);
        server.Root.WriteRandomFile("f.bin", 5000, seed: 17);
        using var client = new RawTftpClient();

        await client.SendRequestAsync(server.Endpoint, "f.bin");
        var first = await ExpectDataAsync(client, Wait);
        await client.SendAckAsync(first.From, 1);
        var copies = 0;
        while (await client.ReceiveAsync(TimeSpan.FromSeconds(3)) is { } packet)
        {
            Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeData(packet.Buffer, out var block, out _));
            Assert.Equal((ushort)2, block);
            copies++;
            Assert.True(copies <= 10, "the server kept retransmitting");
        }

        // The first send plus MaxRetransmits (3) retransmissions, then silence.
        Assert.Equal(4, copies);
        Assert.True(await server.WaitForLogAsync(LogLevel.Warning, "gave up f.bin", Wait), server.Log.Dump());
        Assert.Equal(0, await server.SettledActiveTransfersAsync());
    }

    /// <summary>Finding 9 of issue 11: a 22-byte request drew 7 packets (3,612 bytes) from a client that never answers.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SilentClient_AfterItsRequest_GetsExactlyOnePacket(bool withOptions)
    {
        await using var server = TftpTestServer.Start(o => new TftpServerOptions
        {
            Endpoint = o.Endpoint,
            RootDirectory = o.RootDirectory,
            RetransmitTimeout = TimeSpan.FromMilliseconds(200),
            MaxRetransmitTimeout = TimeSpan.FromMilliseconds(400),
            FirstAnswerTimeout = TimeSpan.FromSeconds(2),
        });
        server.Root.WriteRandomFile("f.bin", 5000, seed: 31);
        using var client = new RawTftpClient();

        await client.SendRequestAsync(server.Endpoint, "f.bin", withOptions ? [new TftpOption("blksize", "1428"), new TftpOption("tsize", "0")] : []);
        var packets = new List<int>();
        while (await client.ReceiveAsync(TimeSpan.FromSeconds(4)) is { } packet)
        {
            packets.Add(packet.Buffer.Length);
            Assert.True(packets.Count <= 20, "the server kept sending");
        }

        Assert.Single(packets);
        Assert.True(await server.WaitForLogAsync(LogLevel.Information, "never answered the first packet of f.bin", Wait), server.Log.Dump());
        Assert.Equal(0, await server.SettledActiveTransfersAsync());
    }

    [Fact]
    public async Task PerSourceLimit_OneSourceFloods_AnotherSourceIsServed()
    {
        await using var server = TftpTestServer.Start(o => new TftpServerOptions
        {
            Endpoint = new IPEndPoint(IPAddress.Any, 0),
            RootDirectory = o.RootDirectory,
            MaxSessions = 20,
            MaxSessionsPerSource = 4,
        });
        var content = server.Root.WriteRandomFile("f.bin", 700, seed: 33);
        var endpoint = new IPEndPoint(IPAddress.Loopback, server.Endpoint.Port);
        var flood = Enumerable.Range(0, 40).Select(_ => new RawTftpClient()).ToList();
        try
        {
            foreach (var attacker in flood)
            {
                await attacker.SendRequestAsync(endpoint, "f.bin");
            }

            // Four transfers run for the flooding address; its other requests are dropped, not answered.
            var answered = 0;
            foreach (var attacker in flood)
            {
                answered += await attacker.ReceiveAsync(TimeSpan.FromMilliseconds(100)) is null ? 0 : 1;
            }

            Assert.Equal(4, answered);
            Assert.True(server.Log.Contains(LogLevel.Debug, "transfers from that address are running"), server.Log.Dump());

            using var other = new RawTftpClient(IPAddress.Parse("127.0.0.2"));
            await other.SendRequestAsync(endpoint, "f.bin");
            var first = await ExpectDataAsync(other, Wait);
            await other.SendAckAsync(first.From, 1);
            var second = await ExpectDataAsync(other, Wait);
            await other.SendAckAsync(first.From, 2);
            Assert.Equal(content, (byte[])[.. first.Payload, .. second.Payload]);
        }
        finally
        {
            flood.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Transfer_LongerThanTheTimeLimit_IsStoppedAndLogged()
    {
        await using var server = TftpTestServer.Start(o => new TftpServerOptions
        {
            Endpoint = o.Endpoint,
            RootDirectory = o.RootDirectory,
            RetransmitTimeout = TimeSpan.FromMilliseconds(100),
            MaxRetransmitTimeout = TimeSpan.FromMilliseconds(100),
            MaxRetransmits = 1000,
            MaxTransferTime = TimeSpan.FromMilliseconds(700),
        });
        server.Root.WriteRandomFile("f.bin", 5000, seed: 19);
        using var client = new RawTftpClient();

        await client.SendRequestAsync(server.Endpoint, "f.bin");
        await ExpectDataAsync(client, Wait);

        Assert.True(await server.WaitForLogAsync(LogLevel.Warning, "took longer than", Wait), server.Log.Dump());
        Assert.Equal(0, await server.SettledActiveTransfersAsync());
    }

    [Fact]
    public async Task RateLimit_PerSource_DropsRequestsBeyondTheBurst()
    {
        await using var server = TftpTestServer.Start(o => new TftpServerOptions { Endpoint = o.Endpoint, RootDirectory = o.RootDirectory, RequestsPerSecondPerSource = 0.1, RequestBurstPerSource = 2 });
        using var client = new RawTftpClient();

        for (var i = 0; i < 5; i++)
        {
            // Refused by the request loop itself (no session), so each admitted request gets exactly one reply.
            await client.SendRequestAsync(server.Endpoint, "../missing-" + i);
        }

        var replies = 0;
        while (await client.ReceiveAsync(TimeSpan.FromMilliseconds(700)) is not null)
        {
            replies++;
        }

        Assert.Equal(2, replies);
        Assert.True(server.Log.Contains(LogLevel.Debug, "rate limit"), server.Log.Dump());
    }

    [Fact]
    public async Task VirtualFileSource_AnswersFirst_AndTheRootServesTheRest()
    {
        var rendered = "#!ipxe\nchain http://10.0.0.1/boot/${net0/mac}.ipxe\n"u8.ToArray();
        await using var server = TftpTestServer.Start(o => new TftpServerOptions
        {
            Endpoint = o.Endpoint,
            RootDirectory = o.RootDirectory,
            FileSource = new PerClientSource(rendered),
        });
        using var output = new TestDirectory("sidus-tftp-out-");
        var onDisk = server.Root.WriteRandomFile("undionly.kpxe", 70_000, seed: 18);

        var script = await TftpClients.GetAsync(TftpClients.Kind.CurlBlksize, server.Port, "node.ipxe", output.Combine("node.ipxe"));
        var binary = await TftpClients.GetAsync(TftpClients.Kind.CurlBlksize, server.Port, "undionly.kpxe", output.Combine("undionly.kpxe"));

        Assert.Equal(0, script.ExitCode);
        Assert.Equal(rendered, await File.ReadAllBytesAsync(output.Combine("node.ipxe")));
        Assert.Equal(0, binary.ExitCode);
        Assert.Equal(onDisk, await File.ReadAllBytesAsync(output.Combine("undionly.kpxe")));
    }

    /// <summary>A virtual source that answers "node.ipxe" for loopback clients only.</summary>
    private sealed class PerClientSource(byte[] script) : ITftpFileSource
    {
        public ValueTask<TftpOpenResult> OpenAsync(TftpFileRequest request, CancellationToken cancellationToken) =>
            ValueTask.FromResult(request.Path == "node.ipxe" && IPAddress.IsLoopback(request.Client.Address)
                ? TftpOpenResult.Found(TftpFile.FromBytes(script))
                : TftpOpenResult.NotFound);
    }
}
