using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Sidus.Agent.Network;
using Sidus.Wire.Nbd;
using Sidus.E2E.Tests.Support;

namespace Sidus.E2E.Tests;

/// <summary>
/// The agent's NBD handshake against real servers on loopback (qemu-nbd and nbd-server): the export's size and flags
/// come out right, the stream is left exactly at the transmission phase (a real NBD_CMD_READ answers with the file's
/// bytes), an unknown export is refused by name, and a closed port fails as a socket error.
/// </summary>
public sealed class NbdClientPeerTests : IDisposable
{
    private const uint RequestMagic = 0x25609513;
    private const uint SimpleReplyMagic = 0x67446698;
    private const int ReadOffset = 8192;
    private const int ReadLength = 4096;
    private readonly string _work = Directory.CreateTempSubdirectory("sidus-nbd-peer-").FullName;
    private readonly byte[] _data = new byte[1024 * 1024 + 4096];
    private readonly string _file;

    public NbdClientPeerTests()
    {
        new Random(42).NextBytes(_data);
        _file = Path.Combine(_work, "export.img");
        File.WriteAllBytes(_file, _data);
    }

    public static TheoryData<string> Servers => ["qemu-nbd", "nbd-server"];

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task ConnectAsync_KnownExport_SizeFlagsAndTransmissionReady(string server)
    {
        using var peer = Start(server, "ab12");
        var export = await NbdClient.ConnectAsync(peer.EndPoint, "ab12", CancellationToken.None);
        using var socket = export.Socket;
        Assert.Equal((ulong)_data.Length, export.Size);
        Assert.True(export.Flags.HasFlag(NbdTransmissionFlags.HasFlags));
        Assert.True(export.Flags.HasFlag(NbdTransmissionFlags.ReadOnly));
        Assert.Equal(_data.AsSpan(ReadOffset, ReadLength).ToArray(), await ReadAsync(socket, ReadOffset, ReadLength));
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task ConnectAsync_UnknownExport_RefusedNamingIt(string server)
    {
        using var peer = Start(server, "ab12");
        var e = await Assert.ThrowsAsync<NbdRefusedException>(() => NbdClient.ConnectAsync(peer.EndPoint, "no-such-version", CancellationToken.None));
        Assert.Contains("no-such-version", e.Message, StringComparison.Ordinal);
        Assert.Contains("unknown export", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_SocketError()
    {
        var port = NbdPeer.FreeLoopbackPort();
        await Assert.ThrowsAsync<SocketException>(() => NbdClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), "ab12", CancellationToken.None));
    }

    private NbdPeer Start(string server, string export)
    {
        var at = new IPEndPoint(IPAddress.Loopback, NbdPeer.FreeLoopbackPort());
        return server == "qemu-nbd"
            ? NbdPeer.QemuNbd(_file, export, at, Path.Combine(_work, "qemu-nbd.log"))
            : NbdPeer.NbdServer(_file, export, at, _work);
    }

    /// <summary>One NBD_CMD_READ in the transmission phase (simple reply), with a 10 s limit.</summary>
    private static async Task<byte[]> ReadAsync(Socket socket, long offset, int length)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var request = new byte[28];
        BinaryPrimitives.WriteUInt32BigEndian(request, RequestMagic);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4), 0);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(6), 0);
        BinaryPrimitives.WriteUInt64BigEndian(request.AsSpan(8), 0x5349445553);
        BinaryPrimitives.WriteUInt64BigEndian(request.AsSpan(16), (ulong)offset);
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(24), (uint)length);
        await socket.SendAsync(request, SocketFlags.None, limit.Token);
        var reply = new byte[16 + length];
        var have = 0;
        while (have < reply.Length)
        {
            var n = await socket.ReceiveAsync(reply.AsMemory(have), SocketFlags.None, limit.Token);
            Assert.NotEqual(0, n);
            have += n;
        }

        Assert.Equal(SimpleReplyMagic, BinaryPrimitives.ReadUInt32BigEndian(reply));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(4)));
        Assert.Equal(0x5349445553ul, BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8)));
        return reply[16..];
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
