namespace Sidus.Server.WebConsole;

/// <summary>
/// The console's first page: every node with its settings and the stage its latest boot reached, with the time of
/// each stage since the boot's DHCP. Filters (group, state) are a plain GET form, so they work without script and
/// can be bookmarked; console.js keeps the rows live from <see cref="LiveEvents"/>, hiding a row whose new state the
/// filter does not show.
/// </summary>
internal static class NodesPage
{
    /// <summary>The state filter's value for nodes that never reported a boot.</summary>
    public const string Never = "never";

    public static async Task<Markup> RenderAsync(HttpContext ctx, ConsoleSession session)
    {
        var view = ctx.RequestServices.GetRequiredService<InventoryView>();
        var snapshot = view.Current;
        var boots = (await view.Store.GetBootStatusAsync(ctx.RequestAborted))
            .Where(b => b.Node is not null).GroupBy(b => b.Node!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(b => b.Latest.At).Last(), StringComparer.Ordinal);
        var group = ctx.Request.Query["group"].ToString();
        var state = ctx.Request.Query["state"].ToString();

        var body = new Html();
        Filters(body, snapshot, group, state);
        var nodes = snapshot.Nodes.Where(n => group.Length == 0 || n.Groups.Contains(group, StringComparer.Ordinal)).ToList();
        var shown = nodes.Count(n => Matches(state, boots.GetValueOrDefault(n.Name)?.Latest.Stage));
        body.Add($"""
            <p id="live" class="live" role="status" aria-live="polite" data-state-filter="{state}">Live updates start when the page has loaded.</p>
            <p class="summary"><span id="shown">{shown}</span> of {snapshot.Nodes.Length} nodes shown. {Summary(snapshot, boots)}</p>
            <table class="nodes" id="nodes">
            <caption class="visually-hidden">Nodes and their latest boot</caption>
            <thead><tr><th scope="col">Node</th><th scope="col">Groups</th><th scope="col">Image</th><th scope="col">Mode</th><th scope="col">Stage</th><th scope="col">Since</th><th scope="col">Stages (time since DHCP)</th><th scope="col">Detail</th></tr></thead>
            <tbody>

            """);
        foreach (var node in nodes)
        {
            var settings = snapshot.Resolve(node);
            var boot = boots.GetValueOrDefault(node.Name);
            var stage = boot?.Latest.Stage.ToText() ?? Never;
            var start = boot?.Started.ToUnixTimeMilliseconds() ?? 0;
            var hidden = Matches(state, boot?.Latest.Stage) ? Markup.Empty : new Markup(" hidden");
            body.Add($"""
                <tr data-node="{node.Name}" data-start="{start}"{hidden}>
                <th scope="row"><a href="{ConsoleRoutes.Node(node.Name)}">{node.Name}</a></th>
                <td>{string.Join(", ", node.Groups)}</td>
                <td>{settings.Image.Value ?? "-"}</td>
                <td>{settings.Mode.Value.ToText()}</td>
                <td class="stage"><span class="badge stage-{stage}">{stage}</span></td>
                <td class="at">{(boot is null ? new Markup("-") : ConsoleLayout.Time(boot.Latest.At))}</td>
                <td class="timings">{Timings(boot)}</td>
                <td class="detail">{boot?.Latest.Detail ?? ""}</td>
                </tr>

                """);
        }

        body.Add($"</tbody></table>\n");
        if (nodes.Count == 0)
        {
            body.Add($"<p>No nodes {(group.Length == 0 ? new Markup("yet: add some with <code>sidus node add</code> or <code>sidus apply</code>.") : new Markup("in this group."))}</p>\n");
        }

        return ConsoleLayout.Page("Nodes", ConsoleLayout.Section.Nodes, session, body.ToMarkup());
    }

    /// <summary>Whether a node whose latest stage is STAGE (null: never booted) passes the state filter.</summary>
    public static bool Matches(string filter, BootStage? stage) =>
        filter.Length == 0 || (stage is null ? filter == Never : filter == stage.Value.ToText());

    /// <summary>Each stage of the boot and when it came after the boot's DHCP, in a list console.js appends to.</summary>
    public static Markup Timings(NodeBootStatus? boot)
    {
        var html = new Html();
        html.Add($"<ol class=\"timeline-inline\">");
        foreach (var s in boot?.Stages ?? [])
        {
            html.Add($"<li><span class=\"stage-name\">{s.Stage.ToText()}</span> {ConsoleLayout.Since(s.SinceStart)}</li>");
        }

        html.Add($"</ol>");
        return html.ToMarkup();
    }

    private static void Filters(Html body, InventorySnapshot snapshot, string group, string state)
    {
        body.Add($"""
            <form class="filters" method="get" action="{ConsoleRoutes.Nodes}">
            <label>Group <select name="group" id="filter-group"><option value="">all groups</option>
            """);
        foreach (var g in snapshot.Groups)
        {
            body.Add($"<option value=\"{g.Name}\"{Selected(g.Name == group)}>{g.Name}</option>");
        }

        body.Add($"""
            </select></label>
            <label>State <select name="state" id="filter-state"><option value="">all states</option>
            """);
        foreach (var s in Enum.GetValues<BootStage>().Select(s => s.ToText()).Append(Never))
        {
            body.Add($"<option value=\"{s}\"{Selected(s == state)}>{(s == Never ? "never booted" : s)}</option>");
        }

        body.Add($"""
            </select></label>
            <button type="submit">Filter</button>
            </form>

            """);
    }

    private static Markup Selected(bool selected) => selected ? new Markup(" selected") : Markup.Empty;

    private static string Summary(InventorySnapshot snapshot, Dictionary<string, NodeBootStatus> boots)
    {
        var counts = snapshot.Nodes.GroupBy(n => boots.GetValueOrDefault(n.Name)?.Latest.Stage.ToText() ?? "never booted")
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}");
        return snapshot.Nodes.Length == 0 ? string.Empty : "At load: " + string.Join(", ", counts) + ".";
    }
}
