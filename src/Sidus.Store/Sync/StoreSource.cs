using System.Runtime.ExceptionServices;

namespace Sidus.Store.Sync;

/// <summary>A version in the local store as a sync's tree and content (`sidus image checkout`, exports).</summary>
public sealed class StoreSource : ITreeSource, IContentSource
{
    private readonly Repository _repository;

    public StoreSource(Repository repository, ObjectId version)
    {
        ArgumentNullException.ThrowIfNull(repository);
        _repository = repository;
        Version = version;
        Root = repository.ReadCommit(version).Root;
    }

    public ObjectId Version { get; }

    public TreeEntry Root { get; }

    public IReadOnlyList<TreeEntry> ReadTree(ObjectId tree) => _repository.ReadTree(tree);

    /// <summary>
    /// Reads the contents on all cores, those whose data shares a compressed frame by one thread in frame order, so
    /// each frame is read and decompressed once; every content is hashed as it is read (<see cref="ContentStore.Read"/>).
    /// </summary>
    public ValueTask DeliverAsync(IReadOnlyList<ContentWant> wanted, ContentWriter write, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        ArgumentNullException.ThrowIfNull(write);
        var packs = _repository.Objects;
        var groups = wanted.GroupBy(w => packs.FrameKey(w.Content)).OrderBy(g => g.Key).ToList();
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellation };
        try
        {
            Parallel.ForEach(groups, options, group =>
            {
                foreach (var want in group)
                {
                    write(want.Content, ContentStore.Read(packs, want.Content));
                }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Report the first real failure (a damaged object, a full disk), not a wrapper around it.
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }

        return ValueTask.CompletedTask;
    }
}
