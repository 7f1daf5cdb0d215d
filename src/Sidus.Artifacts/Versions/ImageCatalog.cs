namespace Sidus.Artifacts.Versions;

/// <summary>The outcome of looking an image up for a node: its boot files, or why there are none.</summary>
public sealed record ImageLookup(ImageBootFiles? Files, string? Problem);

/// <summary>
/// Answers "what does image NAME[@VER|:TAG] boot with" and "what is version ID's kernel". A version's files never
/// change (versions are immutable), so answers are cached by version id; a name is resolved afresh each time, so a
/// new version or a moved tag is used by the next boot.
/// </summary>
public sealed class ImageCatalog(ImageStoreView store)
{
    /// <summary>Versions whose boot files are remembered; beyond, the cache starts over (a rare, cheap rebuild).</summary>
    public const int MaxCachedVersions = 1024;

    private readonly ConcurrentDictionary<ObjectId, ImageLookup> _byVersion = new();

    public ImageStoreView Store => store;

    /// <summary>Resolves <paramref name="spec"/> (NAME, NAME@N, NAME@HEX or NAME:TAG) and finds its boot files.</summary>
    public ImageLookup Lookup(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return WithRetry(repository =>
        {
            var (id, commit) = repository.Resolve(spec);
            return ForVersion(repository, id, () => commit);
        });
    }

    /// <summary>The boot files of one version, by id; a Problem when the id names no version here.</summary>
    public ImageLookup Version(ObjectId id) =>
        _byVersion.TryGetValue(id, out var known)
            ? known
            : WithRetry(repository => ForVersion(repository, id, () => repository.ReadCommit(id)));

    private ImageLookup ForVersion(Repository repository, ObjectId id, Func<Sidus.Store.Trees.Commit> commit)
    {
        if (_byVersion.TryGetValue(id, out var known))
        {
            return known;
        }

        var c = commit();
        var files = BootFileFinder.Find(repository, id, c, out var problem);
        var lookup = new ImageLookup(files, problem);
        if (_byVersion.Count >= MaxCachedVersions)
        {
            _byVersion.Clear();
        }

        _byVersion[id] = lookup;
        return lookup;
    }

    private ImageLookup WithRetry(Func<Repository, ImageLookup> work)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var lease = store.Acquire();
            try
            {
                return work(lease.Repository);
            }
            catch (MissingObjectException e) when (attempt == 0 && store.Reopen($"object {e.Message} not in the packs opened so far"))
            {
                // A version imported after the store was opened: retry once with the new packs.
            }
            catch (MissingObjectException e)
            {
                return new ImageLookup(null, e.Message);
            }
            catch (CorruptObjectException e)
            {
                return new ImageLookup(null, "the image store is damaged: " + e.Message + " (run 'sidus store verify')");
            }
            catch (StoreException e)
            {
                return new ImageLookup(null, e.Message);
            }
            catch (IOException e)
            {
                // A read error of the disk under the store (EIO): a problem the admin sees, never an unhandled 500.
                return new ImageLookup(null, "the image store cannot be read: " + e.Message + " (run 'sidus store verify'; check the disk)");
            }
        }
    }
}
