namespace Sidus.Server.Hosting;

/// <summary>
/// What the process around a server gives it when it runs as a service: the service manager's notifier (READY,
/// STOPPING, RELOADING, WATCHDOG), the log level a reload changes, and how to read the configuration again. The
/// defaults (no manager, no reload) suit a server started in a test.
/// </summary>
public sealed class ServiceManagement
{
    /// <summary>Nobody to notify; the configuration never read again.</summary>
    public static ServiceManagement None => new();

    public SystemdNotifier Notifier { get; init; } = new(null, null);

    public LogLevelSwitch LogLevel { get; init; } = new(Microsoft.Extensions.Logging.LogLevel.Information);

    /// <summary>Reads the configuration again as the server was configured at start (file, then command line); null: no reloads.</summary>
    public Func<ServeOptions>? Reload { get; init; }

    /// <summary>Reload when the process gets SIGHUP (what <c>systemctl reload</c> sends); needs <see cref="Reload"/>.</summary>
    public bool ReloadOnHangup { get; init; }
}
