using Sidus.Store.Checkout;

namespace Sidus.Agent.Update;

/// <summary>`sidus-agent update` and `sidus-agent drift`: the command lines of <see cref="NodeUpdater"/>.</summary>
internal static class UpdateCommand
{
    public const string UpdateHelp = """
        Usage: sidus-agent update [--root DIR] [--server URL] [--token-file F]
                                  [--to VERSION] [--dry-run] [--no-delete]
                                  [--exclude PATH]... [--keep-drift] [--json]

        Brings this installed node (or DIR) to a version of the Sidus server: only
        the files that differ are fetched, each written beside its target and
        renamed over it; deletions come last. Files changed since the last update
        (drift) are listed first, then overwritten (kept with --keep-drift).

          --root DIR        the root to update (default /)
          --server URL      the server (default: 'server =' in
                            ROOT/etc/sidus/agent.conf)
          --token-file F    the credential (default ROOT/etc/sidus/node.key; an admin
                            token from 'sidus token create' also works)
          --to VERSION      a version id (default: the one the server says this
                            node should run)
          --dry-run         list every change and change nothing
          --no-delete       keep files the version does not have
          --exclude PATH    leave PATH alone (PATH/* : only what is under it);
                            added to the defaults (docs/installed-nodes.md)
          --keep-drift      leave files changed since the last update as they are
          --json            print the result as JSON
        Exit status: 0 when the root matches the version, 1 on failure, 2 on bad usage.
        """;

    public const string DriftHelp = """
        Usage: sidus-agent drift [--root DIR] [--exclude PATH]... [--json]

        Lists the files of this installed node (or DIR) changed since its last
        install or update (added, removed, modified, metadata), changing nothing.
        Needs no server. Exit status: 0, 1 on failure, 2 on bad usage.
        """;

    public static async Task<int> UpdateAsync(string[] args)
    {
        if (!TryParse(args, drift: false, out var options, out var json, out var problem))
        {
            return Usage(problem, UpdateHelp);
        }

        options = options with
        {
            Say = json ? null : line => Console.Error.WriteLine(line),
            OnDrift = json ? null : item => Console.WriteLine($"drift {item.Kind,-8} {item.Path}"),
            OnChange = !options.DryRun || json ? null : (action, path) => Console.WriteLine($"{Verb(action),-8} {path}"),
        };
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        var result = await NodeUpdater.RunAsync(options, cancel.Token);
        Print(result, json);
        return result.Problem is null ? 0 : 1;
    }

    public static int Drift(string[] args)
    {
        if (!TryParse(args, drift: true, out var options, out var json, out var problem))
        {
            return Usage(problem, DriftHelp);
        }

        var result = NodeUpdater.Drift(options);
        if (json)
        {
            Console.WriteLine(result.ToJson());
        }
        else if (result.Problem is { } failed)
        {
            Console.Error.WriteLine($"sidus-agent drift: {failed}");
        }
        else if (!result.DriftKnown)
        {
            Console.WriteLine("drift unknown: no record of a completed install or update here");
        }
        else
        {
            foreach (var item in result.Drift)
            {
                Console.WriteLine($"{item.Kind,-8} {item.Path}");
            }

            Console.WriteLine(result.Drift.Count == 0 ? $"no drift since {result.Ref ?? "the last sync"}" : $"{result.Drift.Count} paths changed since {result.Ref ?? "the last sync"}");
        }

        return result.Problem is null ? 0 : 1;
    }

    private static void Print(NodeUpdateResult r, bool json)
    {
        if (json)
        {
            Console.WriteLine(r.ToJson());
            return;
        }

        if (r.Problem is { } problem)
        {
            Console.Error.WriteLine($"sidus-agent update: FAILED: {problem}");
            Console.Error.WriteLine("every file is the old or the new one; run the update again to complete it");
            return;
        }

        var verb = r.DryRun ? "would match" : "matches";
        Console.WriteLine($"{verb} {r.Ref} ({r.Version?[..12]}){(r.Previous is { } p && p != r.Ref ? $", was {p}" : "")}");
        Console.WriteLine($"files: {r.Created} created, {r.Updated} updated, {r.Deleted} deleted, {r.Unchanged} unchanged");
        Console.WriteLine($"bytes: {ByteUnits.Format(r.BytesReceived)} received, {ByteUnits.Format(r.BytesWritten)} written, in {r.Seconds:F1} s");
        Console.WriteLine(!r.DriftKnown ? "drift: unknown (no record of a completed sync)"
            : r.Drift.Count == 0 ? "drift: none"
            : $"drift: {r.Drift.Count} paths {(r.DriftKept ? "kept" : r.DryRun ? "would be overwritten" : "overwritten")} (listed above)");
        Console.WriteLine(r.RebootNeeded ? $"reboot needed: {string.Join("; ", r.RebootReasons)}" : "reboot needed: no");
        if (r.Bootloader is { } bootloader)
        {
            Console.WriteLine($"bootloader: {bootloader}");
        }
    }

    private static string Verb(SyncAction action) => action switch
    {
        SyncAction.Create or SyncAction.Link => "create",
        SyncAction.Delete => "delete",
        SyncAction.Metadata => "metadata",
        _ => "update",
    };

    private static int Usage(string? problem, string help)
    {
        if (problem is null)
        {
            Console.WriteLine(help);
            return 0;
        }

        Console.Error.WriteLine($"sidus-agent: {problem}");
        Console.Error.WriteLine(help);
        return 2;
    }

    /// <summary>False with PROBLEM null for --help, else with the reason.</summary>
    private static bool TryParse(string[] args, bool drift, out UpdateOptions options, out bool json, out string? problem)
    {
        options = new UpdateOptions();
        json = false;
        problem = null;
        var excludes = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"{arg} needs a value");
                }

                return args[++i];
            }

            try
            {
                switch (arg)
                {
                    case "-h" or "--help":
                        return false;
                    case "--root":
                        options = options with { Root = Value() };
                        break;
                    case "--exclude":
                        excludes.Add(Value());
                        break;
                    case "--json":
                        json = true;
                        break;
                    case "--server" when !drift:
                        options = options with { Server = Value() };
                        break;
                    case "--token-file" when !drift:
                        options = options with { TokenFile = Value() };
                        break;
                    case "--to" when !drift:
                        options = options with { To = Value() };
                        break;
                    case "--dry-run" when !drift:
                        options = options with { DryRun = true };
                        break;
                    case "--no-delete" when !drift:
                        options = options with { NoDelete = true };
                        break;
                    case "--keep-drift" when !drift:
                        options = options with { KeepDrift = true };
                        break;
                    default:
                        problem = $"unknown option '{arg}'";
                        return false;
                }
            }
            catch (ArgumentException e)
            {
                problem = e.Message;
                return false;
            }
        }

        try
        {
            _ = new Sidus.Store.Sync.SyncExcludes(excludes);
        }
        catch (ArgumentException e)
        {
            problem = e.Message;
            return false;
        }

        options = options with { Excludes = excludes };
        return true;
    }
}
