using Microsoft.Extensions.Hosting;

namespace Sidus.Server.Hosting;

/// <summary>
/// Sends WATCHDOG=1 at half the service manager's watchdog timeout, and only while <see cref="ServerHealth"/> says
/// the server serves: once a boot listener died the pings stop, and systemd restarts a server that would otherwise
/// look alive. A process too stuck to run this loop also stops pinging, which is the watchdog's other purpose.
/// </summary>
internal sealed class WatchdogPinger(SystemdNotifier notifier, ServerHealth health, ILogger<WatchdogPinger> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (notifier.WatchdogInterval is not { } timeout)
        {
            return;
        }

        ServerLog.WatchdogEnabled(logger, (timeout / 2).TotalSeconds, timeout.TotalSeconds);
        await PingAsync(notifier, health, timeout / 2, stoppingToken);
        if (!health.IsHealthy)
        {
            ServerLog.WatchdogStopped(logger, health.Failure!);
        }
    }

    /// <summary>Pings every <paramref name="interval"/> until stopped or unhealthy; returns the number of pings sent.</summary>
    public static async Task<int> PingAsync(SystemdNotifier notifier, ServerHealth health, TimeSpan interval, CancellationToken ct)
    {
        var sent = 0;
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                if (!health.IsHealthy)
                {
                    break;
                }

                notifier.Watchdog();
                sent++;
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The server stops: STOPPING=1 has been sent, the manager no longer expects pings.
        }

        return sent;
    }
}
