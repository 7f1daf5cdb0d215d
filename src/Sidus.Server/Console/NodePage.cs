using Sidus.Nodes.Overrides;

namespace Sidus.Server.WebConsole;

/// <summary>
/// One node: its machine, its effective settings with the level each came from (node, group:NAME, defaults,
/// built-in: what `sidus node show` says), its latest boot as a timeline, its recent events, and its override layer
/// rendered as the node would get it (what `sidus node render` says; private keys as fingerprints only).
/// </summary>
internal static class NodePage
{
    /// <summary>Recent events shown at most.</summary>
    public const int RecentEvents = 50;

    /// <summary>Text of an override file shown at most; the rest is cut with a note.</summary>
    public const int MaxShownText = 16 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public static async Task<Markup?> RenderAsync(HttpContext ctx, ConsoleSession session, string name)
    {
        var view = ctx.RequestServices.GetRequiredService<InventoryView>();
        var snapshot = view.Current;
        if (snapshot.FindNode(name) is not { } node)
        {
            return null;
        }

        var settings = snapshot.Resolve(node);
        var boot = (await view.Store.GetBootStatusAsync(ctx.RequestAborted))
            .Where(b => b.Node == node.Name).OrderBy(b => b.Latest.At).LastOrDefault();
        var events = await view.Store.GetRecentEventsAsync(node.Name, RecentEvents, ctx.RequestAborted);

        var body = new Html();
        body.Add($"""
            <p id="live" class="live" role="status" aria-live="polite" data-node="{node.Name}">Live updates start when the page has loaded.</p>
            <section aria-labelledby="machine"><h2 id="machine">Machine</h2>
            <dl class="facts">
            <dt>MACs</dt><dd>{string.Join(" ", node.Macs.Select(m => m.ToString()))}</dd>
            <dt>Address</dt><dd>{node.Ip?.ToString() ?? "from the pool"}</dd>
            <dt>Groups</dt><dd>{(node.Groups.Length == 0 ? "-" : string.Join(", ", node.Groups))}</dd>
            <dt>Revision</dt><dd>{node.Revision}</dd>
            </dl></section>
            <section aria-labelledby="settings"><h2 id="settings">Effective settings</h2>
            <table><thead><tr><th scope="col">Setting</th><th scope="col">Value</th><th scope="col">From</th></tr></thead><tbody>
            {Row("image", settings.Image.Value ?? "-", settings.Image.Origin)}
            {Row("mode", settings.Mode.Value.ToText(), settings.Mode.Origin)}
            {Row("kernel-args", settings.KernelArgs.Value ?? "-", settings.KernelArgs.Origin)}

            """);
        foreach (var (key, value) in settings.Tags)
        {
            body.Add(Row("tag " + key, value.Value, value.Origin));
        }

        foreach (var exclude in settings.UpdateExcludes)
        {
            body.Add(Row("update-exclude", exclude.Value, exclude.Origin));
        }

        body.Add($"</tbody></table></section>\n");
        Timeline(body, node, boot);
        Events(body, events);
        // ssh-keygen runs on a node's first render: off the request thread, as the node's own download does.
        var overrides = await Task.Run(() => Overrides(ctx, snapshot, node, settings), ctx.RequestAborted);
        body.Add(overrides);
        return ConsoleLayout.Page("Node " + node.Name, ConsoleLayout.Section.Nodes, session, body.ToMarkup());
    }

    private static Markup Row(string setting, string value, string origin) =>
        Html.Of($"<tr><th scope=\"row\">{setting}</th><td>{value}</td><td><span class=\"origin\">{origin}</span></td></tr>\n");

    private static void Timeline(Html body, Node node, NodeBootStatus? boot)
    {
        body.Add($"<section aria-labelledby=\"boot\"><h2 id=\"boot\">Latest boot</h2>\n");
        if (boot is null)
        {
            body.Add($"<p id=\"boot-summary\">{node.Name} has not reported a boot yet.</p>\n");
        }
        else
        {
            body.Add($"""
                <p id="boot-summary">Began {ConsoleLayout.Time(boot.Started)} (DHCP), reached <span class="badge stage-{boot.Latest.Stage.ToText()}">{boot.Latest.Stage.ToText()}</span>{(boot.Image is { } image ? Html.Of($"; image version <code>{image}</code>") : Markup.Empty)}.</p>

                """);
        }

        body.Add($"<ol class=\"timeline\" id=\"timeline\" data-start=\"{boot?.Started.ToUnixTimeMilliseconds() ?? 0}\">\n");
        foreach (var s in boot?.Stages ?? [])
        {
            body.Add($"<li><span class=\"badge stage-{s.Stage.ToText()}\">{s.Stage.ToText()}</span> {ConsoleLayout.Since(s.SinceStart)} <span class=\"at\">{ConsoleLayout.Time(s.At)}</span> <span class=\"detail\">{EventText.Clean(s.Detail) ?? ""}</span></li>\n");
        }

        body.Add($"</ol></section>\n");
    }

    private static void Events(Html body, IReadOnlyList<BootEvent> events)
    {
        body.Add($"""
            <section aria-labelledby="events"><h2 id="events">Recent events</h2>
            <table id="recent-events"><thead><tr><th scope="col">At</th><th scope="col">MAC</th><th scope="col">Stage</th><th scope="col">Detail</th></tr></thead><tbody>

            """);
        foreach (var e in events)
        {
            body.Add($"<tr><td>{ConsoleLayout.Time(e.At)}</td><td>{e.Mac.ToString()}</td><td>{e.Stage.ToText()}</td><td class=\"detail\">{EventText.Clean(e.Detail) ?? ""}</td></tr>\n");
        }

        body.Add($"</tbody></table>\n");
        body.Add(events.Count == 0 ? new Markup("<p id=\"no-events\">None stored.</p>\n") : Markup.Empty);
        body.Add($"</section>\n");
    }

    /// <summary>The layer rendered here as it would be for the node's boot (first render makes its keys, as a boot would).</summary>
    private static Markup Overrides(HttpContext ctx, InventorySnapshot snapshot, Node node, EffectiveSettings settings)
    {
        var body = new Html();
        body.Add($"<section aria-labelledby=\"overrides\"><h2 id=\"overrides\">Overrides</h2>\n");
        IReadOnlyList<OverrideFile> layer;
        try
        {
            var options = ctx.RequestServices.GetRequiredService<Hosting.RunningOptions>().Current;
            var image = settings.Image.Value is { } spec && ctx.RequestServices.GetRequiredService<ImageCatalog>().Lookup(spec).Files is { } files
                ? new ImageInfo($"{files.Image}@{files.Sequence.ToString(CultureInfo.InvariantCulture)}", files.Version.ToString())
                : null;
            var site = Http.OverrideEndpoints.Site(options, Http.HttpHelpers.Server(ctx), node.Ip);
            layer = ctx.RequestServices.GetRequiredService<OverrideRenderer>().Render(new RenderContext(snapshot, node, image, site));
        }
        catch (OverrideException e)
        {
            body.Add($"<p class=\"error\" role=\"alert\">The override layer cannot be made: {e.Message}</p></section>\n");
            return body.ToMarkup();
        }

        body.Add($"""
            <p>{layer.Count} entries over the image, later levels replacing earlier ones file by file.</p>
            <table id="override-files"><thead><tr><th scope="col">Path</th><th scope="col">From</th><th scope="col">Mode</th><th scope="col">Owner</th><th scope="col">Content</th></tr></thead><tbody>

            """);
        foreach (var f in layer)
        {
            body.Add($"<tr><td><code>/{f.Path}</code></td><td><span class=\"origin\">{f.Origin}</span></td><td>{Convert.ToString(f.Mode, 8).PadLeft(4, '0')}</td><td>{f.Uid}:{f.Gid}</td><td>{Content(f, layer)}</td></tr>\n");
        }

        body.Add($"</tbody></table></section>\n");
        return body.ToMarkup();
    }

    private static Markup Content(OverrideFile f, IReadOnlyList<OverrideFile> layer)
    {
        switch (f.Kind)
        {
            case OverrideKind.Directory:
                return new Markup("directory");
            case OverrideKind.Symlink:
                return Html.Of($"→ <code>{f.LinkTarget}</code>");
        }

        if (f.Secret)
        {
            var pub = layer.FirstOrDefault(p => p.Path == f.Path + ".pub");
            var fingerprint = pub is null ? "no public key beside it" : Fingerprints.OfPublicKey(Encoding.ASCII.GetString(pub.Content));
            return Html.Of($"secret, not shown (private key of {fingerprint})");
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(f.Content, 0, Math.Min(f.Content.Length, MaxShownText));
        }
        catch (DecoderFallbackException)
        {
            return Html.Of($"{ConsoleLayout.Bytes(f.Content.Length)}, binary");
        }

        var cut = f.Content.Length > MaxShownText ? Html.Of($"\n… ({ConsoleLayout.Bytes(f.Content.Length)} in all)") : Markup.Empty;
        return Html.Of($"<details><summary>{ConsoleLayout.Bytes(f.Content.Length)}</summary><pre>{text}{cut}</pre></details>");
    }
}
