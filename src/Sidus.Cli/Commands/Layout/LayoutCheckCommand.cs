using Sidus.Nodes.Layouts;
using Sidus.Server.Install;

namespace Sidus.Cli.Commands.Layout;

/// <summary>`sidus layout check FILE [--disk-size [ID=]SIZE]... [--image IMAGE[@VER]]`: validates a layout and prints its plan.</summary>
public static class LayoutCheckCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The layout file (YAML); - reads stdin" };
        var diskSize = new Option<string[]>("--disk-size")
        {
            Description = "Plan for a disk of this size: ID=SIZE for one disk item, SIZE for every disk (500G, 2TiB, 480GB)",
            HelpName = "[ID=]SIZE",
            AllowMultipleArgumentsPerToken = false,
        };
        var image = new Option<string?>("--image")
        {
            Description = "With --disk-size: also check that each filesystem the install writes can hold this version's files, as the server does before a node touches its disk",
            HelpName = "IMAGE[@VER]",
        };
        var json = GlobalOptions.Json();
        var cmd = new Command("check", """
            Check a layout before any node uses it: every key, id, reference, flag, filesystem and mount, with the
            file, line and field of the first error. With --disk-size, also lay it out on disks of that size and
            print the plan: each partition's number, start and size (1 MiB aligned; GPT keeps the disk's first and
            last MiB), RAID and LVM sizes, filesystems and mounts, or say what does not fit. Warnings (no ESP, so
            UEFI nodes cannot boot it; a partition nothing uses) go to stderr. With --image too, each filesystem
            the version is written to is listed with the files it gets and its room (what mkfs leaves), and one too
            small is an error, as `sidus serve` refuses such an install before the node touches its disk.
            Exit codes: 0 valid (and fits), 1 not valid or does not fit.
            """)
        {
            file, diskSize, image, json,
        };
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var path = r.GetValue(file)!;
            if (await InventoryCli.ReadInputAsync(path, ct) is not ({ } text, { } shown))
            {
                return InventoryCli.Usage;
            }

            Sidus.Nodes.Layouts.Layout layout;
            LayoutPlan? plan = null;
            try
            {
                layout = LayoutYaml.Parse(text, shown);
                var sizes = r.GetValue(diskSize) ?? [];
                if (sizes.Length > 0)
                {
                    plan = LayoutPlan.Make(layout, DiskSizes(layout, sizes));
                }
            }
            catch (LayoutException e)
            {
                return InventoryCli.Error(e.Message);
            }

            (string Ref, IReadOnlyList<MountRoom> Rooms)? room = null;
            if (r.GetValue(image) is { } spec)
            {
                if (plan is null)
                {
                    return InventoryCli.Error("--image needs --disk-size: the room of a filesystem depends on the disk's size");
                }

                try
                {
                    using var repository = Repository.Open(GlobalOptions.ResolveHome(r));
                    var (id, commit) = repository.Resolve(spec);
                    room = ($"{commit.Image}@{commit.Sequence.ToString(CultureInfo.InvariantCulture)}",
                        FilesystemRoom.Measure(layout, plan, VersionFootprint.Of(repository, id, ct)));
                }
                catch (StoreException e)
                {
                    return InventoryCli.Error($"--image {spec}: {e.Message}");
                }
            }

            foreach (var warning in layout.Warnings)
            {
                Console.Error.WriteLine("warning: " + warning);
            }

            if (r.GetValue(json))
            {
                JsonOutput.Write(Json(layout, plan, room?.Rooms));
            }
            else
            {
                Print(layout, plan, room?.Rooms);
            }

            return room is var (version, rooms) && rooms.FirstOrDefault(m => !m.Fits) is { } full
                ? InventoryCli.Error(FilesystemRoom.Refusal(layout.Source, version, full, atInstall: false))
                : InventoryCli.Ok;
        });
        return cmd;
    }

    /// <summary>Sizes by disk id from ID=SIZE and SIZE (for every disk not named).</summary>
    private static Dictionary<string, long> DiskSizes(Sidus.Nodes.Layouts.Layout layout, string[] given)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        long? all = null;
        foreach (var g in given)
        {
            var eq = g.IndexOf('=', StringComparison.Ordinal);
            var (id, text) = eq < 0 ? (null, g) : (g[..eq], g[(eq + 1)..]);
            if (!ByteSize.TryParse(text, out var size, out var problem) || !size.IsFixed)
            {
                throw new LayoutException($"--disk-size {g}: {problem ?? "give a size in bytes or units, like 500G"}");
            }

            if (id is null)
            {
                all = size.Bytes;
            }
            else if (layout.OfType<DiskItem>().Any(d => d.Id == id))
            {
                sizes[id] = size.Bytes;
            }
            else
            {
                throw new LayoutException($"--disk-size {g}: the layout has no disk '{id}' (disks: {string.Join(", ", layout.OfType<DiskItem>().Select(d => d.Id))})");
            }
        }

        foreach (var d in layout.OfType<DiskItem>().Where(d => !sizes.ContainsKey(d.Id) && all is not null))
        {
            sizes[d.Id] = all!.Value;
        }

        return sizes;
    }

    private static void Print(Sidus.Nodes.Layouts.Layout layout, LayoutPlan? plan, IReadOnlyList<MountRoom>? rooms)
    {
        Console.Out.WriteLine($"{layout.Source}: valid, {layout.Items.Count} items" + (layout.Description is { } d ? $" ({d})" : string.Empty));
        if (plan is null)
        {
            foreach (var item in layout.Items)
            {
                Console.Out.WriteLine($"  {item.Id,-10} {item.Type,-9} {Describe(item)}{(item.Preserve ? " (preserved)" : string.Empty)}");
            }

            Console.Out.WriteLine("give --disk-size (e.g. --disk-size 500G) to see offsets and sizes");
            return;
        }

        var table = new TextTable("ID", "TYPE", "ON", "#", "START", "SIZE", "DETAIL");
        foreach (var v in plan.Volumes)
        {
            table.AddRow(
                v.Id, v.Type, v.Parent, v.Number?.ToString(CultureInfo.InvariantCulture), v.Start is { } s ? ByteSize.Format(s) : null,
                ByteSize.Format(v.Size), (v.Detail ?? string.Empty) + (v.Preserve ? " (preserved)" : string.Empty));
        }

        table.Write();
        if (rooms is not null)
        {
            Console.Out.WriteLine();
            var room = new TextTable("MOUNT", "FILESYSTEM", "ON", "SIZE", "FILES", "ROOM", "FITS");
            foreach (var m in rooms)
            {
                room.AddRow(m.Path, $"{m.Format} ({m.FsType})", m.Volume, ByteSize.Format(m.VolumeBytes), ByteSize.Format(m.Need),
                    m.Room is { } bytes ? ByteSize.Format(Math.Max(0, bytes)) : "not checked", m.Fits ? "yes" : "NO");
            }

            room.Write();
        }
    }

    private static string Describe(LayoutItem item) => item switch
    {
        DiskItem d => $"{d.Table.ToString().ToLowerInvariant()}, {d.Match}",
        PartitionItem p => $"on {p.Disk}, {p.Size}" + (p.Flags.Length > 0 ? $", flags {string.Join(",", p.Flags)}" : string.Empty),
        RaidItem r => $"raid{r.Level} of {string.Join(", ", r.Devices)}",
        VolumeGroupItem v => $"{v.Name} of {string.Join(", ", v.Devices)}",
        LogicalVolumeItem l => $"{l.Name} in {l.VolumeGroup}, {l.Size}",
        FormatItem f => $"{f.FsType} on {f.Volume}",
        MountItem m => $"{m.Path} from {m.Device}",
        _ => string.Empty,
    };

    private static JsonObject Json(Sidus.Nodes.Layouts.Layout layout, LayoutPlan? plan, IReadOnlyList<MountRoom>? rooms)
    {
        var items = new JsonArray();
        foreach (var item in layout.Items)
        {
            items.Append(new JsonObject { ["id"] = item.Id, ["type"] = item.Type, ["line"] = item.Line, ["preserve"] = item.Preserve, ["summary"] = Describe(item) });
        }

        var result = new JsonObject
        {
            ["file"] = layout.Source,
            ["valid"] = true,
            ["items"] = items,
            ["warnings"] = new JsonArray([.. layout.Warnings.Select(w => (JsonNode?)w)]),
        };
        if (plan is not null)
        {
            var volumes = new JsonArray();
            foreach (var v in plan.Volumes)
            {
                volumes.Append(new JsonObject
                {
                    ["id"] = v.Id, ["type"] = v.Type, ["on"] = v.Parent, ["number"] = v.Number, ["startBytes"] = v.Start, ["sizeBytes"] = v.Size,
                    ["preserve"] = v.Preserve, ["detail"] = v.Detail,
                });
            }

            result["plan"] = volumes;
        }

        if (rooms is not null)
        {
            result["room"] = new JsonArray([.. rooms.Select(m => (JsonNode?)new JsonObject
            {
                ["mount"] = m.Path, ["filesystem"] = m.Format, ["fstype"] = m.FsType, ["on"] = m.Volume, ["sizeBytes"] = m.VolumeBytes,
                ["filesBytes"] = m.Need, ["roomBytes"] = m.Room, ["fits"] = m.Fits,
            })]);
        }

        return result;
    }
}
