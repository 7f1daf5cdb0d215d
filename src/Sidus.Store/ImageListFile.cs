namespace Sidus.Store;

/// <summary>
/// The small list files an image keeps in its own tree for Sidus: /etc/sidus/capture.exclude (what its captures
/// leave out, docs/capture.md) and /etc/sidus/update.exclude (what `sidus node update` leaves alone on the nodes that
/// run it, docs/installed-nodes.md). One entry a line; blank lines and # comments skipped. Read from one version of
/// the store, never from a checkout.
/// </summary>
public static class ImageListFile
{
    /// <summary>A list file is a few lines: anything this large is not one, and is refused rather than read.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>
    /// The entries of the file at PATH (absolute, as on the node) in VERSION; none when the version has no regular
    /// file there. A file over <see cref="MaxBytes"/> throws <see cref="StoreException"/> naming it.
    /// </summary>
    public static List<string> Read(Repository repository, ObjectId version, string path)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var entry = repository.ReadCommit(version).Root;
        foreach (var name in path.Trim('/').Split('/'))
        {
            var bytes = Encoding.UTF8.GetBytes(name);
            var next = entry.Kind == FileKind.Directory ? repository.ReadTree(entry.Tree).FirstOrDefault(e => e.Name.AsSpan().SequenceEqual(bytes)) : null;
            if (next is null)
            {
                return [];
            }

            entry = next;
        }

        if (entry.Kind != FileKind.Regular || entry.Content.IsZero)
        {
            return [];
        }

        if (entry.Size > MaxBytes)
        {
            throw new StoreException($"{path} in version {version.ToString()[..12]} is over {MaxBytes} bytes: not a list file", StoreErrorKind.Failure);
        }

        var text = new MemoryStream();
        foreach (var piece in ContentStore.Read(repository.Objects, entry.Content))
        {
            text.Write(piece.Span);
        }

        return Parse(Encoding.UTF8.GetString(text.ToArray()));
    }

    /// <summary>The entries of a list file's TEXT: one a line, trimmed; blank lines and # comments skipped.</summary>
    public static List<string> Parse(string text) =>
        text.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#')).ToList();
}
