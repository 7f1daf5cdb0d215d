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
        var command = new Command("stats", "Logical size of all versions vs bytes stored, and the dedup ratio") { json };
        command.SetAction((result, cancellation) => CommandRunner.Run(result, cancellation, (images, _) =>
        {
            var s = new StoreMaintenance(images.Repository).Stats();
            if (result.GetValue(json))
            {
                JsonOutput.Write(new JsonObject
                {
                    ["images"] = s.Images,
                    ["versions"] = s.Versions,
                    ["objects"] = s.Objects,
                    ["packs"] = s.Packs,
                    ["logical_bytes"] = s.LogicalBytes,
                    ["stored_bytes"] = s.StoredBytes,
                    ["dedup_ratio"] = Math.Round(s.DedupRatio, 3),
                });
                return ExitCodes.Success;
            }

            Console.WriteLine($"images:    {s.Images}");
            Console.WriteLine($"versions:  {s.Versions}");
            Console.WriteLine($"objects:   {s.Objects} in {s.Packs} packs");
            Console.WriteLine($"logical:   {Units.Bytes(s.LogicalBytes)} (every version as a full copy)");
            Console.WriteLine($"stored:    {Units.Bytes(s.StoredBytes)}");
            Console.WriteLine($"ratio:     {s.DedupRatio:0.00}x (deduplication and compression)");
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
            Remove what no version needs (after 'image rm' or history you no longer want); packs with some live objects
            are rewritten. Then prune the boot cache (HOME/boot/cache): the Sidus kernels and initramfs files of
            versions no longer in the store, those made by an older Sidus, and temporary files of builds whose process
            is gone. Files of other node agent builds are left to 'sidus serve', which knows the agent it serves.
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
                });
                return ExitCodes.Success;
            }

            Console.WriteLine($"removed {r.ObjectsRemoved} objects, kept {r.ObjectsKept}; store {Units.Bytes(r.BytesBefore)} -> {Units.Bytes(r.BytesAfter)}");
            foreach (var file in boot.Removed)
            {
                Console.WriteLine($"removed {file.Path} ({Units.Bytes(file.Bytes)}): {file.Reason}");
            }

            Console.WriteLine($"boot cache: removed {boot.Removed.Count} files ({Units.Bytes(boot.BytesFreed)}), kept {boot.Kept}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
