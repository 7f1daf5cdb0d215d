namespace Sidus.Cli.Commands.Layout;

/// <summary>`sidus layout ...`: disk layouts for installed nodes (docs/layouts.md).</summary>
public static class LayoutCommand
{
    public static Command Create()
    {
        var cmd = new Command("layout", """
            Disk layouts for nodes installed to their disks: a YAML file listing disks (matched by serial, WWN,
            stable path, size or as the first non-removable disk), partitions, md RAID, LVM, filesystems and
            mounts, each of which may be preserved across reinstalls. See docs/layouts.md.
            Exit codes: 0 ok, 1 the layout is not valid or does not fit (file, line and field are named).
            """);
        cmd.Subcommands.Add(LayoutCheckCommand.Create());
        return cmd;
    }
}
