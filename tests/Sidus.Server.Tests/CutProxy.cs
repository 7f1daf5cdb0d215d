using System.Net;
using System.Net.Sockets;

namespace Sidus.Server.Tests;

/// <summary>
/// A TCP relay on loopback in front of the server that, once LIMIT bytes of answers have gone through, either cuts
/// every connection and refuses new ones (the server killed mid-transfer) or stops relaying (a hung server, so the
/// client can be killed mid-update). The relay is the test's own; the server and the client are the real ones.
/// </summary>
internal sealed class CutProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _server;
    private readonly long _limit;
    private readonly bool _stall;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private long _relayed;

    public CutProxy(IPEndPoint server, long limit, bool stall)
    {
        _server = server;
        _limit = limit;
        _stall = stall;
        _listener.Start();
        _ = AcceptAsync();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Bytes of answers relayed so far.</summary>
    public long Relayed => Interlocked.Read(ref _relayed);

    public bool Tripped => Relayed >= _limit;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (Tripped && !_stall)
            {
                client.Dispose();
                continue;
            }

            var upstream = new TcpClient();
            await upstream.ConnectAsync(_server);
            lock (_open)
            {
                _open.Add(client);
                _open.Add(upstream);
            }

            _ = PumpAsync(client.GetStream(), upstream.GetStream(), count: false);
            _ = PumpAsync(upstream.GetStream(), client.GetStream(), count: true);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool count)
    {
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    to.Socket.Shutdown(SocketShutdown.Send);
                    return;
                }

                if (count && Interlocked.Add(ref _relayed, n) >= _limit)
                {
                    if (_stall)
                    {
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                    }

                    CloseAll();
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private void CloseAll()
    {
        lock (_open)
        {
            foreach (var c in _open)
            {
                c.Client.Close(0);
                c.Dispose();
            }

            _open.Clear();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        CloseAll();
        _stop.Dispose();
    }
}
