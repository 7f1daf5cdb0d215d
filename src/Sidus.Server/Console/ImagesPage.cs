using Sidus.Store;
using Sidus.Store.Diff;

namespace Sidus.Server.WebConsole;

/// <summary>
/// The images as the console shows them: every image with its newest version, tags and size; one image's versions
/// (what `sidus image log` lists) with a form to compare two of them (what `sidus image diff` computes, with
/// <see cref="TreeDiff"/>). Versions are immutable and read under a lease of the opened store.
/// </summary>
internal static class ImagesPage
{
    /// <summary>Changed paths listed at most on a diff page; the counts above the list are always complete.</summary>
    public const int MaxDiffRows = 2000;

    public static Task<Markup?> ListAsync(HttpContext ctx, ConsoleSession session) => ReadAsync(ctx, repo => (Markup?)List(ctx, session, repo));

    public static Task<Markup?> VersionsAsync(HttpContext ctx, ConsoleSession session, string name) => ReadAsync(ctx, repo => Versions(session, repo, name));

    public static Task<Markup?> DiffAsync(HttpContext ctx, ConsoleSession session, string name, long from, long to) =>
        ReadAsync(ctx, repo => Diff(session, repo, name, from, to));

    /// <summary>
    /// Reads the store as it is now: a version imported since the server opened it is in packs not opened yet, so a
    /// missing object reopens the store (as boots do, <see cref="ImageCatalog"/>; waiting for the once-a-second
    /// allowance if need be) and reads again, once.
    /// </summary>
    public static async Task<T> ReadAsync<T>(HttpContext ctx, Func<Repository, T> read)
    {
        var store = ctx.RequestServices.GetRequiredService<ImageStoreView>();
        for (var attempt = 0; ; attempt++)
        {
            string missing;
            using (var lease = store.Acquire())
            {
                try
                {
                    return read(lease.Repository);
                }
                catch (MissingObjectException e) when (attempt == 0)
                {
                    missing = e.Message;
                }
            }

            if (!store.Reopen($"object {missing} not in the packs opened so far"))
            {
                await Task.Delay(ImageStoreView.ReopenInterval, ctx.RequestAborted);
                store.Reopen($"object {missing} not in the packs opened so far");
            }
        }
    }

    private static Markup List(HttpContext ctx, ConsoleSession session, Repository repo)
    {
        var nodes = ImagesInUse(ctx);
        var body = new Html();
        var images = repo.Refs.Images().Order(StringComparer.Ordinal).ToList();
        if (images.Count == 0)
        {
            body.Add($"<p>No images yet: make one with <code>sidus image build</code> or <code>sidus image import</code>.</p>\n");
            return ConsoleLayout.Page("Images", ConsoleLayout.Section.Images, session, body.ToMarkup());
        }

        body.Add($"""
            <table id="images"><thead><tr><th scope="col">Image</th><th scope="col">Newest</th><th scope="col">Versions</th><th scope="col">Files</th><th scope="col">Size</th><th scope="col">Made</th><th scope="col">Tags</th><th scope="col">Nodes</th></tr></thead><tbody>

            """);
        foreach (var name in images)
        {
            if (repo.Refs.Head(name) is not { } head)
            {
                continue;
            }

            var commit = repo.ReadCommit(head);
            var versions = repo.History(name).Count();
            var tags = repo.Refs.Tags(name).Keys.Order(StringComparer.Ordinal);
            body.Add($"""
                <tr><th scope="row"><a href="{ConsoleRoutes.Image(name)}">{name}</a></th><td>@{commit.Sequence} <code>{head.Short}</code></td><td>{versions}</td><td>{commit.Files}</td><td>{ConsoleLayout.Bytes(commit.LogicalBytes)}</td><td>{ConsoleLayout.Time(commit.Time)}</td><td>{string.Join(", ", tags)}</td><td>{nodes.GetValueOrDefault(name)}</td></tr>

                """);
        }

        body.Add($"</tbody></table>\n");
        return ConsoleLayout.Page("Images", ConsoleLayout.Section.Images, session, body.ToMarkup());
    }

    private static Markup? Versions(ConsoleSession session, Repository repo, string name)
    {
        if (!repo.Refs.Images().Contains(name, StringComparer.Ordinal))
        {
            return null;
        }

        var tagsById = repo.Refs.Tags(name).GroupBy(t => t.Value).ToDictionary(g => g.Key, g => g.Select(t => t.Key).Order(StringComparer.Ordinal).ToList());
        var history = repo.History(name).ToList();
        var body = new Html();
        DiffForm(body, name, history.Select(h => h.Commit.Sequence).ToList());
        body.Add($"""
            <table id="versions"><thead><tr><th scope="col">Version</th><th scope="col">Id</th><th scope="col">Made</th><th scope="col">Files</th><th scope="col">Size</th><th scope="col">Tags</th><th scope="col">Message</th></tr></thead><tbody>

            """);
        foreach (var (id, commit) in history)
        {
            body.Add($"""
                <tr><th scope="row">@{commit.Sequence}</th><td><code title="{id.ToString()}">{id.Short}</code></td><td>{ConsoleLayout.Time(commit.Time)}</td><td>{commit.Files}</td><td>{ConsoleLayout.Bytes(commit.LogicalBytes)}</td><td>{string.Join(", ", tagsById.GetValueOrDefault(id) ?? [])}</td><td>{commit.Message}</td></tr>

                """);
        }

        body.Add($"</tbody></table>\n");
        return ConsoleLayout.Page("Image " + name, ConsoleLayout.Section.Images, session, body.ToMarkup());
    }

    /// <summary>What differs between versions FROM and TO of image NAME; null when the image or a version is not there.</summary>
    private static Markup? Diff(ConsoleSession session, Repository repo, string name, long from, long to)
    {
        var history = repo.Refs.Images().Contains(name, StringComparer.Ordinal) ? repo.History(name).ToList() : [];
        var a = history.FirstOrDefault(h => h.Commit.Sequence == from);
        var b = history.FirstOrDefault(h => h.Commit.Sequence == to);
        if (a.Commit is null || b.Commit is null)
        {
            return null;
        }

        var changes = TreeDiff.Compare(repo, a.Commit.Root, b.Commit.Root);
        var body = new Html();
        DiffForm(body, name, history.Select(h => h.Commit.Sequence).ToList(), from, to);
        body.Add($"""
            <p id="diff-summary">{changes.Count(c => c.Kind == ChangeKind.Added)} added, {changes.Count(c => c.Kind == ChangeKind.Removed)} removed, {changes.Count(c => c.Kind == ChangeKind.Modified)} modified between @{from} and @{to}.</p>
            <table id="diff"><thead><tr><th scope="col">Change</th><th scope="col">Path</th><th scope="col">What changed</th></tr></thead><tbody>

            """);
        foreach (var c in changes.Take(MaxDiffRows))
        {
            // Fixed marks, written as markup: the encoder would spell "+" as a character reference.
            var (mark, word) = c.Kind switch { ChangeKind.Added => (new Markup("+"), "added"), ChangeKind.Removed => (new Markup("-"), "removed"), _ => (new Markup("M"), "modified") };
            var path = "/" + Linux.LinuxException.Printable(c.Path).TrimStart('/');
            body.Add($"<tr class=\"change-{word}\"><td><abbr title=\"{word}\">{mark}</abbr></td><td><code>{path}</code></td><td>{string.Join(", ", c.What)}</td></tr>\n");
        }

        body.Add($"</tbody></table>\n");
        if (changes.Count > MaxDiffRows)
        {
            body.Add($"<p>… and {changes.Count - MaxDiffRows} more (all of them: <code>sidus image diff {name}@{from} {name}@{to}</code>).</p>\n");
        }

        return ConsoleLayout.Page($"Image {name}: @{from} → @{to}", ConsoleLayout.Section.Images, session, body.ToMarkup());
    }

    private static void DiffForm(Html body, string name, IReadOnlyList<long> sequences, long? from = null, long? to = null)
    {
        if (sequences.Count < 2)
        {
            return;
        }

        // History is newest first: by default compare the one before the newest with the newest.
        from ??= sequences[1];
        to ??= sequences[0];
        body.Add($"""
            <form class="filters" method="get" action="{ConsoleRoutes.Image(name)}/diff">
            <label>From <select name="from" id="diff-from">{Options(sequences, from.Value)}</select></label>
            <label>To <select name="to" id="diff-to">{Options(sequences, to.Value)}</select></label>
            <button type="submit">Compare</button>
            </form>

            """);
    }

    private static Markup Options(IReadOnlyList<long> sequences, long selected)
    {
        var html = new Html();
        foreach (var s in sequences)
        {
            html.Add($"<option value=\"{s}\"{(s == selected ? new Markup(" selected") : Markup.Empty)}>@{s}</option>");
        }

        return html.ToMarkup();
    }

    /// <summary>How many nodes boot each image (by the image name of their effective setting).</summary>
    private static Dictionary<string, long> ImagesInUse(HttpContext ctx)
    {
        var snapshot = ctx.RequestServices.GetRequiredService<InventoryView>().Current;
        return snapshot.Nodes.Select(n => snapshot.Resolve(n).Image.Value).OfType<string>()
            .Select(spec => spec.Split('@', ':')[0]).GroupBy(n => n, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
    }
}
