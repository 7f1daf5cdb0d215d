using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Sidus.Wire.Nbd;

namespace Sidus.Wire.Tests.Nbd.Support;

/// <summary>
/// A hand-driven client for sending what real clients never send (bad magic, huge lengths, writes). Every read has a
/// time limit; <see cref="ReadOrEndAsync"/> tells a closed connection from an answer.
/// </summary>
internal sealed class RawNbdClient : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    private readonly TcpClient _tcp;
    private NetworkStream _stream = null!;

    private RawNbdClient(IPAddress? source) => _tcp = source is null ? new TcpClient() : new TcpClient(new IPEndPoint(source, 0));

    /// <param name="source">The address to connect from (any of 127.0.0.0/8 plays another machine).</param>
    public static async Task<RawNbdClient> ConnectAsync(int port, bool sendFlags = true, IPAddress? source = null)
    {
        var client = new RawNbdClient(source);
        await client._tcp.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Limit);
        client._stream = client._tcp.GetStream();
        var greeting = await client.ReadAsync(NbdProtocol.GreetingLength);
        Assert.Equal(NbdProtocol.InitMagic, BinaryPrimitives.ReadUInt64BigEndian(greeting));
        if (sendFlags)
        {
            await client.SendAsync(Convert.FromHexString("00000003"));
        }

        return client;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes) => await _stream.WriteAsync(bytes).AsTask().WaitAsync(Limit);

    public Task SendOptionAsync(NbdOption option, ReadOnlySpan<byte> data) => SendOptionAsync((uint)option, (uint)data.Length, data.ToArray());

    public async Task SendOptionAsync(uint option, uint declaredLength, byte[] data)
    {
        var bytes = new byte[NbdProtocol.OptionHeaderLength + data.Length];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, NbdProtocol.OptionMagic);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), option);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12), declaredLength);
        data.CopyTo(bytes, NbdProtocol.OptionHeaderLength);
        await SendAsync(bytes);
    }

    /// <summary>Reads one option reply: (option, type, data).</summary>
    public async Task<(NbdOption Option, NbdReplyType Type, byte[] Data)> ReadReplyAsync()
    {
        var header = await ReadAsync(NbdProtocol.OptionReplyHeaderLength);
        Assert.Equal(NbdProtocol.OptionReplyMagic, BinaryPrimitives.ReadUInt64BigEndian(header));
        var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(16));
        return ((NbdOption)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8)), (NbdReplyType)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(12)),
            length == 0 ? [] : await ReadAsync(length));
    }

    /// <summary>NBD_OPT_GO on NAME; returns the export size once ACKed.</summary>
    public async Task<ulong> GoAsync(string name)
    {
        var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        var data = new byte[4 + nameBytes.Length + 2];
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)nameBytes.Length);
        nameBytes.CopyTo(data, 4);
        await SendOptionAsync(NbdOption.Go, data);
        ulong size = 0;
        while (true)
        {
            var (_, type, body) = await ReadReplyAsync();
            if (type == NbdReplyType.Ack)
            {
                return size;
            }

            Assert.Equal(NbdReplyType.Info, type);
            if (BinaryPrimitives.ReadUInt16BigEndian(body) == (ushort)NbdInfoType.Export)
            {
                size = BinaryPrimitives.ReadUInt64BigEndian(body.AsSpan(2));
            }
        }
    }

    public async Task SendRequestAsync(NbdCommand command, ulong cookie, ulong offset, uint length, byte[]? payload = null)
    {
        var bytes = new byte[NbdProtocol.RequestLength + (payload?.Length ?? 0)];
        NbdTransmission.WriteRequest(bytes, new NbdRequest(NbdCommandFlags.None, command, cookie, offset, length));
        payload?.CopyTo(bytes, NbdProtocol.RequestLength);
        await SendAsync(bytes);
    }

    /// <summary>Reads a simple reply: (error, cookie).</summary>
    public async Task<(NbdError Error, ulong Cookie)> ReadSimpleReplyAsync()
    {
        var reply = await ReadAsync(NbdProtocol.SimpleReplyLength);
        Assert.Equal(NbdProtocol.SimpleReplyMagic, BinaryPrimitives.ReadUInt32BigEndian(reply));
        return ((NbdError)BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(4)), BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8)));
    }

    public async Task<byte[]> ReadAsync(int length)
    {
        var buffer = new byte[length];
        await _stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(Limit);
        return buffer;
    }

    /// <summary>True when the server closed the connection (EOF or reset) within the limit, false when bytes came instead.</summary>
    public async Task<bool> ClosedByServerAsync()
    {
        var one = new byte[1];
        try
        {
            return await _stream.ReadAsync(one).AsTask().WaitAsync(Limit) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose() => _tcp.Dispose();
}
