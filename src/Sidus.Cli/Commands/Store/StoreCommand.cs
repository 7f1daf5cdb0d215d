using Sidus.Server.Images;
using Sidus.Artifacts.Exports;
using Sidus.Artifacts.Initramfs;
using Sidus.Store.Maintenance;
using Sidus.Store.Objects;

namespace Sidus.Cli.Commands.Store;

/// <summary>`sidus store`: size, health and cleanup of the content-addressed store.</summary>
public static class StoreCommand
{
    public static Command Create()
    {
        var store = new Command("store", "The store holding every image version: stats, verify, gc");
        store.Subcommands.Add(Stats());
        store.Subcommands.Add(Verify());
        store.Subcommands.Add(Gc());
        return store;
    }

    private static Command Stats()
    {
        var json = GlobalOptions.Json();
        var command = new Command("stats", """
            What the data directory holds: the store's versions, objects and dedup ratio, then every byte of the
            directory by kind (objects, exports, boot files, work trees, inventory, ...), adding up to what
            'du -sb HOME' says.
            """)
        {
            json,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, _) =>
        {
            var s = new StoreMaintenance(images.Repository).Stats();
            var home = HomeUsage.Measure(images.Repository.Home);
            var total = home.Sum(k => k.Bytes);
            if (result.GetValue(json))
            {
                var kinds = new JsonArray();
                foreach (var k in home)
                {
                    kinds.Append(new JsonObject { ["kind"] = k.Kind, ["bytes"] = k.Bytes, ["files"] = k.Files, ["what"] = k.What });
                }

                JsonOutput.Write(new JsonObject
                {
                    ["images"] = s.Images,
                    ["versions"] = s.Versions,
                    ["objects"] = s.Objects,
                    ["packs"] = s.Packs,
                    ["logical_bytes"] = s.LogicalBytes,
                    ["stored_bytes"] = s.StoredBytes,
                    ["dedup_ratio"] = Math.Round(s.DedupRatio, 3),
                    ["home"] = images.Repository.Home,
                    ["home_bytes"] = total,
                    ["home_kinds"] = kinds,
                });
                return ExitCodes.Success;
            }

            Console.WriteLine($"images:    {s.Images}");
            Console.WriteLine($"versions:  {s.Versions}");
            Console.WriteLine($"objects:   {s.Objects} in {s.Packs} packs");
            Console.WriteLine($"logical:   {Units.Bytes(s.LogicalBytes)} (every version as a full copy)");
            Console.WriteLine($"stored:    {Units.Bytes(s.StoredBytes)}");
            Console.WriteLine($"ratio:     {s.DedupRatio:0.00}x (deduplication and compression)");
            Console.WriteLine();
            Console.WriteLine($"{images.Repository.Home}: {Units.Bytes(total)} ({total} bytes)");
            foreach (var k in home.Where(k => k.Bytes > 0))
            {
                Console.WriteLine($"  {k.Kind,-16} {Units.Bytes(k.Bytes),10}  {k.Files,7} files");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Verify()
    {
        var json = GlobalOptions.Json();
        var command = new Command("verify", """
            Re-read and re-hash every object, and check every version has all it needs. Names each damaged or
            missing object and the versions it breaks. Exit code 5 when anything is damaged.
            """)
        {
            json,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, ct) =>
        {
            using var progress = new ConsoleProgress(!result.GetValue(json));
            var report = new StoreMaintenance(images.Repository).Verify(progress, ct);
            progress.Dispose();
            if (result.GetValue(json))
            {
                var damaged = new JsonArray();
                foreach (var d in report.Damaged)
                {
                    damaged.Append(new JsonObject
                    {
                        ["id"] = d.Id.ToString(),
                        ["problem"] = d.Problem,
                        ["broken_versions"] = new JsonArray(d.BrokenVersions.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
                    });
                }

                JsonOutput.Write(new JsonObject
                {
                    ["healthy"] = report.Healthy,
                    ["objects_checked"] = report.ObjectsChecked,
                    ["bytes_checked"] = report.BytesChecked,
                    ["versions_checked"] = report.VersionsChecked,
                    ["damaged"] = damaged,
                });
            }
            else
            {
                foreach (var d in report.Damaged)
                {
                    var versions = d.BrokenVersions.Count == 0 ? "no version uses it" : "breaks " + string.Join(", ", d.BrokenVersions);
                    Console.WriteLine($"DAMAGED {d.Id}: {d.Problem}; {versions}");
                }

                Console.WriteLine(report.Healthy
                    ? $"ok: {report.ObjectsChecked} objects ({Units.Bytes(report.BytesChecked)}) and {report.VersionsChecked} versions verified"
                    : $"{report.Damaged.Count} damaged objects. Re-import or roll back the broken versions, or restore the store from a backup.");
            }

            return report.Healthy ? ExitCodes.Success : ExitCodes.Corrupt;
        }));
        return command;
    }

    private static Command Gc()
    {
        var json = GlobalOptions.Json();
        var command = new Command("gc", """
            Remove what no version needs (after 'image rm', 'image prune'); packs with some live objects are rewritten.
            Then everything built from versions that are gone: the boot cache (HOME/boot/cache: Sidus kernels and
            initramfs files of removed versions, those made by an older Sidus, temporary files of dead builds), the
            erofs exports (HOME/exports) and the exec work trees of removed images (HOME/work). Files of other node
            agent builds are left to 'sidus serve', which knows the agent it serves.
            """)
        {
            json, CommandRunner.Wait,
        };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, ct) =>
        {
            var r = new StoreMaintenance(images.Repository).CollectGarbage(images.LockWait, ct);
            var boot = InitramfsCache.Prune(
                InitramfsCache.DirectoryFor(images.Repository.Home),
                images.Repository.IsLiveVersion,
                currentAgentHash: null);
            var exports = ErofsExports.PruneGone(images.Repository.Home, images.Repository.IsLiveVersion);
            var work = images.PruneWork();
            if (result.GetValue(json))
            {
                JsonOutput.Write(new JsonObject
                {
                    ["objects_kept"] = r.ObjectsKept,
                    ["objects_removed"] = r.ObjectsRemoved,
                    ["packs_removed"] = r.PacksRemoved,
                    ["packs_written"] = r.PacksWritten,
                    ["bytes_before"] = r.BytesBefore,
                    ["bytes_after"] = r.BytesAfter,
                    ["boot_cache_files_removed"] = boot.Removed.Count,
                    ["boot_cache_files_kept"] = boot.Kept,
                    ["boot_cache_bytes_freed"] = boot.BytesFreed,
                    ["export_files_removed"] = exports.Count,
                    ["export_bytes_freed"] = exports.Sum(e => e.Bytes),
                    ["work_trees_removed"] = work.Count,
                    ["work_bytes_freed"] = work.Sum(w => w.Bytes),
                });
                return ExitCodes.Success;
            }

            Console.WriteLine($"removed {r.ObjectsRemoved} objects, kept {r.ObjectsKept}; store {Units.Bytes(r.BytesBefore)} -> {Units.Bytes(r.BytesAfter)}");
            foreach (var file in boot.Removed)
            {
                Console.WriteLine($"removed {file.Path} ({Units.Bytes(file.Bytes)}): {file.Reason}");
            }

            Console.WriteLine($"boot cache: removed {boot.Removed.Count} files ({Units.Bytes(boot.BytesFreed)}), kept {boot.Kept}");
            foreach (var (path, bytes) in exports.Concat(work))
            {
                Console.WriteLine($"removed {path} ({Units.Bytes(bytes)}): its version or image is gone");
            }

            Console.WriteLine($"exports: removed {exports.Count} files ({Units.Bytes(exports.Sum(e => e.Bytes))}); "
                + $"work trees: removed {work.Count} ({Units.Bytes(work.Sum(w => w.Bytes))})");
            return ExitCodes.Success;
        }));
        return command;
    }
}
