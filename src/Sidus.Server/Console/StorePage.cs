using Sidus.Store.Maintenance;

namespace Sidus.Server.WebConsole;

/// <summary>The store's disk use: what `sidus store stats` computes (<see cref="StoreMaintenance.Stats"/>).</summary>
internal static class StorePage
{
    public static async Task<Markup?> RenderAsync(HttpContext ctx, ConsoleSession session)
    {
        var s = await ImagesPage.ReadAsync(ctx, repo => new StoreMaintenance(repo).Stats());

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

            """);
        return ConsoleLayout.Page("Store", ConsoleLayout.Section.Store, session, body.ToMarkup());
    }
}
