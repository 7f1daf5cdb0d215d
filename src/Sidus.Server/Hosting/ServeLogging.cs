using Microsoft.Extensions.Logging.Console;

namespace Sidus.Server.Hosting;

/// <summary>
/// Where <c>sidus serve</c> logs and how much: the console format (a time, colour on a terminal) or the journal's
/// (a "&lt;N&gt;" syslog priority, no time, no colour: journald adds its own), one line per event either way; the level
/// is read at every line from a <see cref="LogLevelSwitch"/>, so a reload changes it without rebuilding the host.
/// </summary>
public static class ServeLogging
{
    /// <summary>
    /// Sets up the host's logging: <paramref name="custom"/> when given (tests collect the lines), else the format and
    /// level of <paramref name="options"/>. Framework categories are held to warnings either way: Kestrel's and the
    /// host's own chatter would bury the server's decisions.
    /// </summary>
    public static void Configure(ILoggingBuilder logging, ServeOptions options, LogLevelSwitch level, Action<ILoggingBuilder>? custom)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(level);
        logging.ClearProviders();
        if (custom is not null)
        {
            custom(logging);
            logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
            return;
        }

        if (options.LogFormat == ServeLogFormat.Journal)
        {
            // SystemdConsoleFormatter: "<6>Category[event] message", exceptions kept on the same line.
            logging.AddSystemdConsole(o =>
            {
                o.TimestampFormat = null;
                o.IncludeScopes = false;
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }

        logging.SetMinimumLevel(LogLevel.Trace);
        logging.AddFilter(level.Allows);
    }
}

/// <summary>The server's log level, changeable while it runs (a SIGHUP reload of log-level).</summary>
public sealed class LogLevelSwitch(LogLevel level)
{
    private int _level = (int)level;

    public LogLevel Level
    {
        get => (LogLevel)Volatile.Read(ref _level);
        set => Volatile.Write(ref _level, (int)value);
    }

    /// <summary>Whether a line of <paramref name="category"/> at <paramref name="level"/> is written.</summary>
    public bool Allows(string? provider, string? category, LogLevel level)
    {
        var threshold = Level;
        if (category is not null && category.StartsWith("Microsoft.", StringComparison.Ordinal))
        {
            // The host's failures are said by the server itself; Kestrel's warnings are worth seeing.
            var floor = category.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal) ? LogLevel.Critical : LogLevel.Warning;
            threshold = threshold > floor ? threshold : floor;
        }

        return level >= threshold && level != LogLevel.None;
    }
}
