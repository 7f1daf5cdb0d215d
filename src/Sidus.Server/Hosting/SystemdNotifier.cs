using System.Diagnostics;

namespace Sidus.Server.Hosting;

/// <summary>
/// The sd_notify protocol, written over a plain socket: a service started with Type=notify finds in NOTIFY_SOCKET the
/// unix datagram socket of its service manager (a path, or an abstract name written with a leading '@') and sends it
/// newline-separated assignments: READY=1, STOPPING=1, RELOADING=1, WATCHDOG=1, STATUS=... . WATCHDOG_USEC (and
/// WATCHDOG_PID, when set, naming this process) says how often the manager expects a WATCHDOG=1.
/// </summary>
/// <remarks>
/// The variables are taken out of the environment once, as sd_notify's unset_environment does, so programs the server
/// runs (mkfs.erofs, ...) do not talk to the manager in its name. Sending never fails the server: the manager may be
/// gone (a stop in progress) and a lost notification is the manager's to time out on.
/// </remarks>
public sealed class SystemdNotifier : IDisposable
{
    public const string SocketVariable = "NOTIFY_SOCKET";
    public const string WatchdogVariable = "WATCHDOG_USEC";
    public const string WatchdogPidVariable = "WATCHDOG_PID";

    /// <summary>The longest datagram sent; STATUS lines are cut to fit (systemd reads up to its page-sized buffer).</summary>
    public const int MaxMessageBytes = 4096;

    private static readonly Lock EnvironmentGate = new();
    private static SystemdNotifier? _fromEnvironment;

    private readonly Socket? _socket;
    private readonly EndPoint? _manager;

    public SystemdNotifier(string? socketAddress, TimeSpan? watchdogInterval)
    {
        if (!string.IsNullOrEmpty(socketAddress) && (socketAddress[0] == '/' || socketAddress[0] == '@'))
        {
            // An abstract name starts with a NUL byte on the wire; '@' is how it is written in the variable.
            _manager = new UnixDomainSocketEndPoint(socketAddress[0] == '@' ? "\0" + socketAddress[1..] : socketAddress);
            _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            Address = socketAddress;
        }

        WatchdogInterval = _socket is null ? null : watchdogInterval;
    }

    /// <summary>Where notifications go, or null when no service manager asked for them.</summary>
    public string? Address { get; }

    /// <summary>True when a service manager listens.</summary>
    public bool Enabled => _socket is not null;

    /// <summary>The manager's watchdog timeout (WATCHDOG_USEC), or null when it runs none for this process.</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>
    /// The notifier the service manager set up for this process; read from the environment the first time (and
    /// removed from it), the same object afterwards.
    /// </summary>
    public static SystemdNotifier FromEnvironment()
    {
        lock (EnvironmentGate)
        {
            if (_fromEnvironment is null)
            {
                var socket = Environment.GetEnvironmentVariable(SocketVariable);
                var watchdog = ParseWatchdog(
                    Environment.GetEnvironmentVariable(WatchdogVariable), Environment.GetEnvironmentVariable(WatchdogPidVariable), Environment.ProcessId);
                Environment.SetEnvironmentVariable(SocketVariable, null);
                Environment.SetEnvironmentVariable(WatchdogVariable, null);
                Environment.SetEnvironmentVariable(WatchdogPidVariable, null);
                _fromEnvironment = new SystemdNotifier(socket, watchdog);
            }

            return _fromEnvironment;
        }
    }

    /// <summary>WATCHDOG_USEC as a time, when it is meant for <paramref name="pid"/> (WATCHDOG_PID unset or equal).</summary>
    public static TimeSpan? ParseWatchdog(string? usec, string? watchdogPid, int pid)
    {
        if (!ulong.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var micro) || micro == 0 || micro > (ulong)TimeSpan.MaxValue.Ticks / 10)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(watchdogPid) && (!int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out var target) || target != pid))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(micro);
    }

    public bool Ready(string status) => Send($"READY=1\nSTATUS={status}");

    public void Stopping(string status) => Send($"STOPPING=1\nSTATUS={status}");

    /// <summary>RELOADING=1 with the time the reload began (CLOCK_MONOTONIC), as Type=notify-reload requires.</summary>
    public void Reloading() => Send(string.Create(CultureInfo.InvariantCulture, $"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds()}\nSTATUS=reloading the configuration"));

    public void Watchdog() => Send("WATCHDOG=1");

    public void Status(string status) => Send("STATUS=" + status);

    /// <summary>Sends one notification; false when nobody listens or it could not be sent.</summary>
    public bool Send(string assignments)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        if (_socket is null)
        {
            return false;
        }

        var bytes = Encoding.UTF8.GetBytes(assignments);
        try
        {
            _socket.SendTo(bytes.AsSpan(0, Math.Min(bytes.Length, MaxMessageBytes)), SocketFlags.None, _manager!);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// CLOCK_MONOTONIC in microseconds: on Linux the runtime's Stopwatch reads clock_gettime(CLOCK_MONOTONIC) in
    /// nanoseconds, the clock systemd compares MONOTONIC_USEC with.
    /// </summary>
    public static long MonotonicMicroseconds()
    {
        var ticks = Stopwatch.GetTimestamp();
        return (ticks / Stopwatch.Frequency * 1_000_000) + (ticks % Stopwatch.Frequency * 1_000_000 / Stopwatch.Frequency);
    }

    public void Dispose() => _socket?.Dispose();
}
