using Sidus.Server.Configuration;
using Sidus.Server.Hosting;

namespace Sidus.Cli.Commands.Serve;

/// <summary>`sidus serve`: DHCP, TFTP and HTTP/iPXE for the nodes of the inventory, until stopped.</summary>
public static class ServeCommand
{
    /// <summary>
    /// How long a stop (SIGTERM, SIGINT) may take before the command line gives up on the action: the server's own
    /// bound for running transfers, plus time to close. With the default (2 s) Main would return a forced 143 while
    /// the host still drains downloads, and the exit code would no longer be the server's own (0, or 1 when a
    /// listener died).
    /// </summary>
    public static readonly TimeSpan TerminationTimeout = SidusServer.ShutdownTimeout + TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var db = InventoryCli.DbOption();
        var args = new ServeArguments();
        var cmd = new Command("serve", """
            Boot machines from the network: TFTP hands PXE ROMs the iPXE binaries, HTTP hands iPXE each node's
            script (from the inventory) and its image's kernel and initramfs, DHCP (full or proxy) points them there,
            NBD serves ram and shared nodes their root (an erofs export per image version with a dm-verity hash tree,
            built ahead of time for every node's version; ram nodes copy it into RAM once up). In full mode Sidus
            also answers IPv6 router solicitations with "no router here", so iPXE does not wait ~16 s for one.
            At start and every 5 minutes it prunes HOME/boot/cache (Sidus initramfs files of versions gone from the
            store, of other agent builds or older formats) and the exports of removed versions no node has open.
            Configured by sidus.toml (see docs/serve.md); the options override it. A quick start needs no file:
              sidus serve --interface eth1 --dhcp full --pool 10.0.0.100-10.0.0.200
            Runs until interrupted (Ctrl-C, SIGTERM); inventory edits take effect without a restart. SIGHUP reads
            the configuration and the inventory again: log level, boot settings and DHCP pools and options change
            live (leases and transfers are kept); listen addresses, ports and interfaces need a restart (logged).
            As a systemd service (sidus service install) it reports READY, RELOADING, STOPPING and WATCHDOG and,
            under the journal, logs with syslog priorities.
            """)
        {
            db,
        };
        foreach (var option in args.All)
        {
            cmd.Options.Add(option);
        }

        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var notifier = SystemdNotifier.FromEnvironment();
            var journal = args.JournalLines(r);
            try
            {
                var options = ServeSetup.ResolveInterfaces(args.Build(r, db));
                var management = new ServiceManagement
                {
                    Notifier = notifier,
                    LogLevel = new LogLevelSwitch(options.LogLevel),
                    Reload = () => ServeSetup.ResolveInterfaces(args.Build(r, db)),
                    ReloadOnHangup = true,
                };
                await using var server = await SidusServer.StartAsync(options, ct: ct, management: management);
                await server.WaitForShutdownAsync(ct);
                var health = server.Health;
                await server.DisposeAsync();
                if (health.Failure is { } failure)
                {
                    return Fatal(notifier, journal, failure, ExitCodes.Failure);
                }

                return ExitCodes.Success;
            }
            catch (ServeConfigException e)
            {
                return Fatal(notifier, journal, e.Message, ExitCodes.Usage);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return ExitCodes.Interrupted;
            }
        });
        return cmd;
    }

    /// <summary>
    /// The one line a failed start or a dead listener prints (with the journal's error priority under systemd), also
    /// given to the service manager as the unit's status.
    /// </summary>
    private static int Fatal(SystemdNotifier notifier, bool journal, string message, int code)
    {
        notifier.Status("failed: " + message);
        Console.Error.WriteLine($"{(journal ? "<3>" : string.Empty)}sidus: {message}");
        return code;
    }
}
