using Sidus.Server.Configuration;
using Sidus.Server.Hosting;

namespace Sidus.Cli.Commands.Serve;

/// <summary>`sidus serve`: DHCP, TFTP and HTTP/iPXE for the nodes of the inventory, until stopped.</summary>
public static class ServeCommand
{
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
            Runs until interrupted (Ctrl-C, SIGTERM); inventory edits take effect without a restart.
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
            try
            {
                var options = args.Build(r, db);
                options = ServeSetup.ResolveInterfaces(options);
                await using var server = await SidusServer.StartAsync(options, ct: ct);
                await server.WaitForShutdownAsync(ct);
                Console.Error.WriteLine("sidus: stopping");
                await server.DisposeAsync();
                return ExitCodes.Success;
            }
            catch (ServeConfigException e)
            {
                return InventoryCli.Error(e.Message, ExitCodes.Usage);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return ExitCodes.Interrupted;
            }
        });
        return cmd;
    }
}
