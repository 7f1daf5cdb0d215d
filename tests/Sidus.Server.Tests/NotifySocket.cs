using System.Net.Sockets;
using System.Text;

namespace Sidus.Server.Tests;

/// <summary>
/// The service manager's end of sd_notify, as systemd opens it: a unix datagram socket bound at a path (or an abstract
/// name, written "@name" in NOTIFY_SOCKET) that collects every notification with the time it arrived.
/// </summary>
public sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly List<(DateTime At, string Text)> _messages = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly string? _path;
    private readonly Task _receiving;

    public NotifySocket(bool abstractName)
    {
        var name = "sidus-notify-" + Guid.NewGuid().ToString("N")[..12];
        if (abstractName)
        {
            _socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
            Address = "@" + name;
        }
        else
        {
            _path = Path.Combine(Path.GetTempPath(), name + ".sock");
            _socket.Bind(new UnixDomainSocketEndPoint(_path));
            Address = _path;
        }

        _receiving = Task.Run(Receive);
    }

    /// <summary>What NOTIFY_SOCKET says.</summary>
    public string Address { get; }

    public IReadOnlyList<(DateTime At, string Text)> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>Waits for a notification that contains <paramref name="assignment"/> as a line; null on timeout.</summary>
    public async Task<(DateTime At, string Text)?> WaitForAsync(string assignment, TimeSpan timeout, int after = 0)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = Messages.Skip(after).Where(m => m.Text.Split('\n').Contains(assignment, StringComparer.Ordinal)).ToArray();
            if (found.Length > 0)
            {
                return found[0];
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            await _arrived.WaitAsync(left);
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _receiving.Wait(TimeSpan.FromSeconds(5));
        if (_path is not null)
        {
            File.Delete(_path);
        }
    }

    private void Receive()
    {
        var buffer = new byte[8192];
        while (true)
        {
            int length;
            try
            {
                length = _socket.Receive(buffer);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_messages)
            {
                _messages.Add((DateTime.UtcNow, Encoding.UTF8.GetString(buffer, 0, length)));
            }

            _arrived.Release();
        }
    }
}
