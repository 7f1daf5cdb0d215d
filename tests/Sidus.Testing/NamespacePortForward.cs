using System.Net;
using System.Net.Sockets;

namespace Sidus.Testing;

/// <summary>
/// Reaches a TCP port inside a namespace from the test process: listens on 127.0.0.1 (an ephemeral port, loopback
/// only) and joins every connection to <c>127.0.0.1:PORT</c> inside the namespace, with a socket created there (a
/// socket stays in the namespace it was made in). For a program the test drives over TCP, like chromedriver running
/// beside a browser in a namespace. Dispose stops listening and closes every joined connection.
/// </summary>
public sealed class NamespacePortForward : IDisposable
{
    private readonly NetworkNamespace _ns;
    private readonly int _port;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _open = [];
    private readonly Task _accepting;

    public NamespacePortForward(NetworkNamespace ns, int port)
    {
        _ns = ns;
        _port = port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>http://127.0.0.1:PORT/ of the listening end.</summary>
    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var outside = await _listener.AcceptSocketAsync(_stop.Token);
                Socket inside;
                try
                {
                    inside = _ns.Invoke(() =>
                    {
                        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                        s.Connect(IPAddress.Loopback, _port);
                        return s;
                    });
                }
                catch (InvalidOperationException)
                {
                    outside.Dispose();
                    continue;
                }

                lock (_open)
                {
                    _open.Add(outside);
                    _open.Add(inside);
                }

                _ = PumpAsync(outside, inside);
                _ = PumpAsync(inside, outside);
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
        catch (ObjectDisposedException)
        {
            // Disposed.
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // One side closed or the forward was disposed: the other side sees the connection end.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_open)
        {
            foreach (var s in _open)
                s.Dispose();
            _open.Clear();
        }

        try
        {
            _accepting.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Its errors were handled inside; nothing more to do on the way out.
        }

        _stop.Dispose();
    }
}
