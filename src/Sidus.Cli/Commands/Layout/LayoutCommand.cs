namespace Sidus.Cli.Commands.Layout;

/// <summary>`sidus layout ...`: disk layouts for installed nodes (docs/layouts.md).</summary>
public static class LayoutCommand
{
    public static Command Create()
    {
        var cmd = new Command("layout", """
            Disk layouts for nodes installed to their disks: a YAML file listing disks (matched by serial, WWN,
            stable path, size or as the first non-removable disk), partitions, md RAID, LVM, filesystems and
            mounts, each of which may be preserved across reinstalls. Layouts are stored in the inventory by
            name, with their history (set, list, show, rm), and nodes, groups or the defaults name one
            (`sidus node set N --mode install --layout NAME`). See docs/layouts.md.
            Exit codes: 0 ok, 1 the layout is not valid or does not fit (file, line and field are named),
            2 not found, 3 in use.
            """);
        var db = InventoryCli.DbOption();
        cmd.Subcommands.Add(LayoutCheckCommand.Create());
        cmd.Subcommands.Add(LayoutSetCommand.Create(db));
        cmd.Subcommands.Add(LayoutListCommand.Create(db));
        cmd.Subcommands.Add(LayoutShowCommand.Create(db));
        cmd.Subcommands.Add(LayoutRemoveCommand.Create(db));
        return cmd;
    }
}
