using System.Net.Sockets;
using System.Text;

namespace Sidus.E2E.Tests.Support;

/// <summary>
/// A line channel between a script in a VM and the test: a virtio serial port (the guest's
/// /dev/virtio-ports/NAME), which QEMU serves as a Unix socket. Unlike the console, no kernel or systemd line cuts
/// into the script's; unlike a second UART (ttyS1), it is no terminal (no line discipline, no controlling-terminal
/// signals) and no emulated 16550 paces it: a 16550 port stalled here for good after about 12 KB. Lines the guest
/// writes are kept (and copied to a log file); the test answers with <see cref="Send"/>.
/// </summary>
internal sealed class VmControlPort : IDisposable
{
    private readonly Socket _socket;
    private readonly Task _reader;
    private readonly List<string> _lines = [];
    private readonly StreamWriter _log;

    private VmControlPort(Socket socket, string logPath)
    {
        _socket = socket;
        _log = new StreamWriter(logPath) { AutoFlush = true };
        _reader = Task.Run(ReadLoop);
    }

    /// <summary>The QEMU arguments for a port named NAME in the guest, served on the socket at PATH.</summary>
    public static string[] QemuArguments(string name, string path) =>
    [
        "-device", "virtio-serial-pci,id=control-bus", "-chardev", $"socket,id=control,path={path},server=on,wait=off",
        "-device", $"virtserialport,bus=control-bus.0,chardev=control,name={name}",
    ];

    /// <summary>Connects to QEMU's socket at PATH, waiting up to LIMIT for QEMU to create it.</summary>
    public static VmControlPort Connect(string path, string logPath, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                return new VmControlPort(socket, logPath);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                Thread.Sleep(100);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    /// <summary>The complete lines the guest wrote so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public string Transcript => string.Join('\n', Lines);

    /// <summary>Waits up to LIMIT for a line that MATCH accepts; returns it, or null.</summary>
    public string? WaitForLine(Func<string, bool> match, TimeSpan limit)
    {
        string? found = null;
        DisklessBoot.WaitFor(() => (found = Lines.FirstOrDefault(match)) is not null, limit);
        return found;
    }

    /// <summary>Writes LINE and a newline to the guest.</summary>
    public void Send(string line) => _socket.Send(Encoding.ASCII.GetBytes(line + "\n"));

    private async Task ReadLoop()
    {
        var buffer = new byte[4096];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
        // A decoder keeps a character split between two reads (journal messages are UTF-8).
        var decoder = Encoding.UTF8.GetDecoder();
        var partial = new StringBuilder();
        while (true)
        {
            int read;
            try
            {
                read = await _socket.ReceiveAsync(buffer, SocketFlags.None);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            if (read == 0)
            {
                return;
            }

            var count = decoder.GetChars(buffer, 0, read, chars, 0);
            foreach (var c in chars.AsSpan(0, count))
            {
                if (c == '\n')
                {
                    var line = partial.ToString().TrimEnd('\r');
                    partial.Clear();
                    _log.WriteLine(line);
                    lock (_lines)
                    {
                        _lines.Add(line);
                    }
                }
                else
                {
                    partial.Append(c);
                }
            }
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _reader.Wait(TimeSpan.FromSeconds(5));
        _log.Dispose();
    }
}
