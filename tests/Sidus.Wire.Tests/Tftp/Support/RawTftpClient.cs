using System.Net;
using System.Net.Sockets;
using Sidus.Wire.Tftp;

namespace Sidus.Wire.Tests.Tftp.Support;

/// <summary>
/// A hand-driven UDP socket for what no real client will do on purpose: hostile requests, dropped ACKs, wrong TIDs.
/// It tests the server's reactions; real transfers are always checked with real clients.
/// </summary>
internal sealed class RawTftpClient : IDisposable
{
    private readonly UdpClient _udp;

    /// <param name="address">The source address (any of 127.0.0.0/8 to play a second machine); 127.0.0.1 by default.</param>
    public RawTftpClient(IPAddress? address = null) => _udp = new UdpClient(new IPEndPoint(address ?? IPAddress.Loopback, 0));

    public IPEndPoint LocalEndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

    public Task SendAsync(byte[] packet, IPEndPoint to) => _udp.SendAsync(packet, to).AsTask();

    public Task SendRequestAsync(IPEndPoint server, string file, params TftpOption[] options) =>
        SendRequestAsync(server, System.Text.Encoding.UTF8.GetBytes(file), TftpOpcode.ReadRequest, options);

    public async Task SendRequestAsync(IPEndPoint server, byte[] file, TftpOpcode opcode, params TftpOption[] options)
    {
        var buffer = new byte[2048];
        var n = TftpEncoder.WriteRequest(buffer, opcode, file, "octet", options);
        await _udp.SendAsync(buffer.AsMemory(0, n), server);
    }

    public Task SendAckAsync(IPEndPoint to, ushort block)
    {
        var buffer = new byte[TftpLimits.HeaderLength];
        TftpEncoder.WriteAck(buffer, block);
        return SendAsync(buffer, to);
    }

    /// <summary>The next datagram, or null if none comes within TIMEOUT.</summary>
    public async Task<UdpReceiveResult?> ReceiveAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            return await _udp.ReceiveAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Receives and asserts an ERROR with CODE; returns the sender.</summary>
    public async Task<IPEndPoint> ExpectErrorAsync(TftpErrorCode code, TimeSpan timeout)
    {
        var packet = await ReceiveAsync(timeout) ?? throw new Xunit.Sdk.XunitException($"no ERROR {code} within {timeout}");
        Assert.Equal(TftpDecodeStatus.Done, TftpDecoder.TryDecodeError(packet.Buffer, out var got, out var message));
        Assert.True(code == got, $"expected error {code}, got {got} \"{message}\"");
        return packet.RemoteEndPoint;
    }

    public void Dispose() => _udp.Dispose();
}
