using Sidus.Store.Maintenance;

namespace Sidus.Server.WebConsole;

/// <summary>The store's disk use and every byte of the data directory by kind: what `sidus store stats` computes.</summary>
internal static class StorePage
{
    public static async Task<Markup?> RenderAsync(HttpContext ctx, ConsoleSession session)
    {
        var (s, home) = await ImagesPage.ReadAsync(ctx, repo => (new StoreMaintenance(repo).Stats(), Images.HomeUsage.Measure(repo.Home)));

        var body = new Html();
        body.Add($"""
            <dl class="facts" id="store-stats">
            <dt>Images</dt><dd>{s.Images}</dd>
            <dt>Versions</dt><dd>{s.Versions}</dd>
            <dt>Objects</dt><dd>{s.Objects} in {s.Packs} packs</dd>
            <dt>Logical size</dt><dd>{ConsoleLayout.Bytes(s.LogicalBytes)} (every version as a full copy)</dd>
            <dt>Stored</dt><dd>{ConsoleLayout.Bytes(s.StoredBytes)}</dd>
            <dt>Ratio</dt><dd>{s.DedupRatio:0.00}× (deduplication and compression)</dd>
            </dl>
            <p>The same figures as <code>sidus store stats</code>; <code>sidus store gc</code> removes what no version needs.</p>
            <h2>The data directory: {ConsoleLayout.Bytes(home.Sum(k => k.Bytes))}</h2>
            <table id="home-kinds"><thead><tr><th scope="col">Kind</th><th scope="col">Size</th><th scope="col">Files</th><th scope="col">What</th></tr></thead><tbody>

            """);
        foreach (var k in home.Where(k => k.Bytes > 0))
        {
            body.Add($"""
                <tr><th scope="row">{k.Kind}</th><td>{ConsoleLayout.Bytes(k.Bytes)}</td><td>{k.Files}</td><td>{k.What}</td></tr>

                """);
        }

        body.Add($"</tbody></table>\n");
        return ConsoleLayout.Page("Store", ConsoleLayout.Section.Store, session, body.ToMarkup());
    }
}
