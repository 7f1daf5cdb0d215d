using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Sidus.Wire.Nbd;
using Sidus.Wire.Tests.Nbd.Support;
using Sidus.Wire.Tests.Tftp.Support;

namespace Sidus.Wire.Tests.Nbd;

/// <summary>
/// What real clients never send: each is answered (when the protocol has an answer) or the connection is closed,
/// logged, and the server keeps serving a real client (nbdinfo) afterwards.
/// </summary>
public sealed class NbdHostileClientTests
{
    [Fact]
    public async Task Handshake_UnknownClientFlags_ClosedAndServerStillServes()
    {
        await using var server = new NbdTestServer();
        using (var raw = await RawNbdClient.ConnectAsync(server.Port, sendFlags: false))
        {
            await raw.SendAsync(Convert.FromHexString("000000F1"));
            Assert.True(await raw.ClosedByServerAsync());
        }

        Assert.True(server.Log.Contains(LogLevel.Warning, "unknown client flags"), server.Log.Dump());
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Option_BadMagic_ClosedAndServerStillServes()
    {
        await using var server = new NbdTestServer();
        using (var raw = await RawNbdClient.ConnectAsync(server.Port))
        {
            await raw.SendAsync(Convert.FromHexString("4142434445464748" + "00000007" + "00000000"));
            Assert.True(await raw.ClosedByServerAsync());
        }

        Assert.True(server.Log.Contains(LogLevel.Warning, "instead of IHAVEOPT"), server.Log.Dump());
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Option_HugeLength_TooBigReplyThenClosed()
    {
        await using var server = new NbdTestServer();
        using (var raw = await RawNbdClient.ConnectAsync(server.Port))
        {
            await raw.SendOptionAsync((uint)NbdOption.Go, uint.MaxValue, []);
            var (option, type, message) = await raw.ReadReplyAsync();
            Assert.Equal(NbdOption.Go, option);
            Assert.Equal(NbdReplyType.ErrorTooBig, type);
            Assert.Contains("4294967295 bytes", System.Text.Encoding.UTF8.GetString(message), StringComparison.Ordinal);
            Assert.True(await raw.ClosedByServerAsync());
        }

        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Option_Unknown_UnsupportedAndConnectionGoesOn()
    {
        await using var server = new NbdTestServer();
        using var raw = await RawNbdClient.ConnectAsync(server.Port);
        await raw.SendOptionAsync(4242, 3, [1, 2, 3]);
        var (option, type, _) = await raw.ReadReplyAsync();
        Assert.Equal((NbdOption)4242, option);
        Assert.Equal(NbdReplyType.ErrorUnsupported, type);
        await raw.SendOptionAsync(NbdOption.StructuredReply, []);
        Assert.Equal(NbdReplyType.ErrorUnsupported, (await raw.ReadReplyAsync()).Type);
        await raw.SendOptionAsync(NbdOption.List, [9]);
        Assert.Equal(NbdReplyType.ErrorInvalid, (await raw.ReadReplyAsync()).Type);
        await raw.SendOptionAsync(NbdOption.Info, Convert.FromHexString("000000FF0000"));
        Assert.Equal(NbdReplyType.ErrorInvalid, (await raw.ReadReplyAsync()).Type);
        Assert.Equal((ulong)NbdTestServer.ExportLength, await raw.GoAsync(NbdTestServer.ExportName));
        await raw.SendRequestAsync(NbdCommand.Read, 7, 0, 16);
        Assert.Equal((NbdError.None, 7ul), await raw.ReadSimpleReplyAsync());
        Assert.Equal(server.Content[..16], await raw.ReadAsync(16));
    }

    [Fact]
    public async Task Read_BeyondEndZeroAndHuge_InvalidAndConnectionGoesOn()
    {
        await using var server = new NbdTestServer();
        using var raw = await RawNbdClient.ConnectAsync(server.Port);
        await raw.GoAsync(NbdTestServer.ExportName);
        await raw.SendRequestAsync(NbdCommand.Read, 1, NbdTestServer.ExportLength - 10, 11);
        Assert.Equal((NbdError.Invalid, 1ul), await raw.ReadSimpleReplyAsync());
        await raw.SendRequestAsync(NbdCommand.Read, 2, ulong.MaxValue - 1, 4);
        Assert.Equal((NbdError.Invalid, 2ul), await raw.ReadSimpleReplyAsync());
        await raw.SendRequestAsync(NbdCommand.Read, 3, 0, 0);
        Assert.Equal((NbdError.Invalid, 3ul), await raw.ReadSimpleReplyAsync());
        await raw.SendRequestAsync(NbdCommand.Read, 4, 0, uint.MaxValue);
        Assert.Equal((NbdError.Invalid, 4ul), await raw.ReadSimpleReplyAsync());
        await raw.SendRequestAsync(NbdCommand.Read, 5, NbdTestServer.ExportLength - 10, 10);
        Assert.Equal((NbdError.None, 5ul), await raw.ReadSimpleReplyAsync());
        Assert.Equal(server.Content[^10..], await raw.ReadAsync(10));
        Assert.True(server.Log.Contains(LogLevel.Warning, "refused: Invalid"), server.Log.Dump());
    }

    [Fact]
    public async Task Write_Attempts_NotPermittedFileUnchanged()
    {
        await using var server = new NbdTestServer();
        using (var raw = await RawNbdClient.ConnectAsync(server.Port))
        {
            await raw.GoAsync(NbdTestServer.ExportName);
            await raw.SendRequestAsync(NbdCommand.Write, 11, 0, 512, new byte[512]);
            Assert.Equal((NbdError.NotPermitted, 11ul), await raw.ReadSimpleReplyAsync());
            await raw.SendRequestAsync(NbdCommand.Trim, 12, 0, 512);
            Assert.Equal((NbdError.NotPermitted, 12ul), await raw.ReadSimpleReplyAsync());
            await raw.SendRequestAsync(NbdCommand.Flush, 13, 0, 0);
            Assert.Equal((NbdError.None, 13ul), await raw.ReadSimpleReplyAsync());
            await raw.SendRequestAsync(NbdCommand.Read, 14, 0, 512);
            Assert.Equal((NbdError.None, 14ul), await raw.ReadSimpleReplyAsync());
            Assert.Equal(server.Content[..512], await raw.ReadAsync(512));
            await raw.SendRequestAsync(NbdCommand.Write, 15, 0, uint.MaxValue);
            Assert.True(await raw.ClosedByServerAsync());
        }

        Assert.Equal(server.Content, await File.ReadAllBytesAsync(server.FilePath));
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task Request_BadMagic_Closed()
    {
        await using var server = new NbdTestServer();
        using (var raw = await RawNbdClient.ConnectAsync(server.Port))
        {
            await raw.GoAsync(NbdTestServer.ExportName);
            var bytes = new byte[NbdProtocol.RequestLength];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, 0xDEADBEEF);
            await raw.SendAsync(bytes);
            Assert.True(await raw.ClosedByServerAsync());
        }

        await NbdRealClientTests.WaitAsync(() => server.OpenExports == 0, "the export released");
        Assert.True(server.Log.Contains(LogLevel.Information, "protocol error"), server.Log.Dump());
    }

    [Fact]
    public async Task Handshake_SilentClient_TimedOutWhileOthersAreServed()
    {
        await using var server = new NbdTestServer(TimeSpan.FromSeconds(1));
        using var silent = await RawNbdClient.ConnectAsync(server.Port);
        await AssertStillServesAsync(server);
        Assert.True(await silent.ClosedByServerAsync());
        Assert.True(server.Log.Contains(LogLevel.Warning, "silent"), server.Log.Dump());
    }

    [Fact]
    public async Task Abort_Acknowledged()
    {
        await using var server = new NbdTestServer();
        using var raw = await RawNbdClient.ConnectAsync(server.Port);
        await raw.SendOptionAsync(NbdOption.Abort, []);
        Assert.Equal(NbdReplyType.Ack, (await raw.ReadReplyAsync()).Type);
        Assert.True(await raw.ClosedByServerAsync());
    }

    [Fact]
    public async Task ExportName_OldOption_ServesAndUnknownNameCloses()
    {
        await using var server = new NbdTestServer();
        using (var raw = await RawNbdClient.ConnectAsync(server.Port))
        {
            await raw.SendOptionAsync(NbdOption.ExportName, "disk"u8);
            var answer = await raw.ReadAsync(NbdProtocol.ExportNameReplyLength);
            Assert.Equal((ulong)NbdTestServer.ExportLength, BinaryPrimitives.ReadUInt64BigEndian(answer));
            Assert.Equal(0x0107, BinaryPrimitives.ReadUInt16BigEndian(answer.AsSpan(8)));
            await raw.SendRequestAsync(NbdCommand.Read, 1, 100, 4);
            Assert.Equal((NbdError.None, 1ul), await raw.ReadSimpleReplyAsync());
            Assert.Equal(server.Content[100..104], await raw.ReadAsync(4));
        }

        using (var raw = await RawNbdClient.ConnectAsync(server.Port))
        {
            await raw.SendOptionAsync(NbdOption.ExportName, "other"u8);
            Assert.True(await raw.ClosedByServerAsync());
        }
    }

    [Fact]
    public async Task Options_Endless_ClosedAfterLimit()
    {
        await using var server = new NbdTestServer();
        using var raw = await RawNbdClient.ConnectAsync(server.Port);
        for (var i = 0; i < NbdProtocol.MaxOptionsPerConnection; i++)
        {
            await raw.SendOptionAsync(NbdOption.StructuredReply, []);
            Assert.Equal(NbdReplyType.ErrorUnsupported, (await raw.ReadReplyAsync()).Type);
        }

        Assert.True(await raw.ClosedByServerAsync());
    }

    private static async Task AssertStillServesAsync(NbdTestServer server)
    {
        var r = await ExternalProcess.RunAsync("nbdinfo", ["--size", server.Uri], TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(NbdTestServer.ExportLength.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Output.Trim());
    }
}
