using Sidus.Nodes.Storage;
using Sidus.Nodes.Overrides;
using Sidus.Server.Configuration;

namespace Sidus.Cli.Commands.Node;

/// <summary>
/// `sidus node apply-overrides NAME...`: running nodes fetch their override layer again and write it over their
/// root, without a reboot. The request goes through the inventory (the server answers the node's waiting
/// sidus-agent service when it reloads); the command waits for each node's answer.
/// </summary>
public static class NodeApplyOverridesCommand
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    public static Command Create(Option<string?> db)
    {
        var names = new Argument<string[]>("name") { Description = "Nodes (names or MAC addresses) to apply their overrides again", Arity = ArgumentArity.OneOrMore };
        var wait = new Option<int>("--wait")
        {
            Description = "Seconds to wait for the nodes' answers; 0: ask and return at once",
            DefaultValueFactory = _ => 90,
            HelpName = "SECONDS",
        };
        var json = GlobalOptions.Json();
        var cmd = new Command("apply-overrides", """
            Have running nodes apply their override layer again, without a reboot: after changing files under
            overrides/, or tags that templates read. Each layer is first rendered here, so a template error stops
            the command before any node is asked. The node's sidus-agent service (a unit every layer installs)
            fetches the layer from `sidus serve` with its boot's session and writes each file beside its target,
            then renames it over it, so a running program never reads a half-written file. Files the layer no
            longer has are left in place (a reboot removes them). The server must be running; it tells the node
            within its inventory poll interval.
            Exit codes: 0 every node applied it, 1 a render error, a refusal or no answer in time, 2 no such node.
            """)
        {
            names, wait, json,
        };
        cmd.SetAction((ParseResult r, CancellationToken ct) => InventoryCli.RunAsync(r, db, ct, async store =>
        {
            var snap = await store.LoadAsync(ct);
            var nodes = new List<Sidus.Nodes.Node>();
            foreach (var key in r.GetValue(names)!)
            {
                if (InventoryCli.FindNodeByNameOrMac(snap, key) is not { } node)
                {
                    return InventoryCli.NoSuchNode(key);
                }

                nodes.Add(node);
            }

            if (CheckRenders(r, db, snap, nodes) is { } renderError)
            {
                return InventoryCli.Error(renderError);
            }

            var at = DateTimeOffset.UtcNow;
            await store.EditAsync(async e =>
            {
                foreach (var node in nodes)
                {
                    await e.RequestOverridesAsync(node.Name, at);
                }
            }, ct);
            var limit = TimeSpan.FromSeconds(Math.Max(0, r.GetValue(wait)));
            var answers = await WaitForAnswersAsync(store, nodes, limit, ct);
            var failed = answers.Count(a => a.Value?.Result is not { } result || !result.StartsWith("applied", StringComparison.Ordinal));
            if (r.GetValue(json))
            {
                InventoryJson.Print(new JsonObject
                {
                    ["requestedAt"] = at.ToString("O", CultureInfo.InvariantCulture),
                    ["nodes"] = new JsonArray([.. nodes.Select(n => (JsonNode?)new JsonObject
                    {
                        ["node"] = n.Name,
                        ["appliedAt"] = answers[n.Name]?.AppliedAt?.ToString("O", CultureInfo.InvariantCulture),
                        ["result"] = answers[n.Name]?.Result,
                    })]),
                });
            }
            else
            {
                foreach (var n in nodes)
                {
                    Console.Out.WriteLine(answers[n.Name] is { AppliedAt: { } when, Result: { } result }
                        ? $"{n.Name}: {result} ({(when - at).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s)"
                        : limit == TimeSpan.Zero
                            ? $"{n.Name}: asked"
                            : $"{n.Name}: no answer within {limit.TotalSeconds:0} s: is it up, is `sidus serve` running? (sidus node status {n.Name})");
                }
            }

            return limit == TimeSpan.Zero || failed == 0 ? InventoryCli.Ok : InventoryCli.Usage;
        }));
        return cmd;
    }

    /// <summary>Renders each node's layer as the server would; the first error, or null.</summary>
    private static string? CheckRenders(ParseResult r, Option<string?> db, InventorySnapshot snap, List<Sidus.Nodes.Node> nodes)
    {
        ServeOptions options;
        try
        {
            options = NodeRenderCommand.LoadOptions(r, db, null);
        }
        catch (ServeConfigException e)
        {
            return e.Message;
        }

        var home = GlobalOptions.ResolveHome(r);
        var renderer = new OverrideRenderer(options.OverrideLocations);
        foreach (var node in nodes)
        {
            try
            {
                renderer.Render(new RenderContext(snap, node, NodeRenderCommand.Image(home, snap.Resolve(node).Image.Value), NodeRenderCommand.Site(options, node, null)));
            }
            catch (OverrideException e)
            {
                return $"node {node.Name}: {e.Message} (no node was asked)";
            }
        }

        return null;
    }

    private static async Task<Dictionary<string, OverridesRequestRecord?>> WaitForAnswersAsync(
        InventoryStore store, List<Sidus.Nodes.Node> nodes, TimeSpan limit, CancellationToken ct)
    {
        var answers = nodes.ToDictionary(n => n.Name, _ => (OverridesRequestRecord?)null, StringComparer.Ordinal);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            foreach (var n in nodes.Where(n => answers[n.Name]?.AppliedAt is null))
            {
                answers[n.Name] = await store.GetOverridesRequestAsync(n.Name, ct);
            }

            if (answers.Values.All(a => a?.AppliedAt is not null) || DateTime.UtcNow >= deadline)
            {
                return answers;
            }

            await Task.Delay(Poll, ct);
        }
    }
}
