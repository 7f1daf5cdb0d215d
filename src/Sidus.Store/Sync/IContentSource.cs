namespace Sidus.Store.Sync;

/// <summary>One content a sync needs: its id and the bytes of data it holds.</summary>
public readonly record struct ContentWant(ObjectId Content, long Length);

/// <summary>
/// Receives one content's data, in order, for the files that hold it. It may be called from several threads at once
/// (for different contents). Each piece of the data is valid only until the next is taken (a source may reuse one
/// buffer), and all of it only until the writer returns. If the data turns out wrong on the way, the source throws
/// from the enumeration and the sync removes what it had written for it.
/// </summary>
public delegate void ContentWriter(ObjectId content, IEnumerable<ReadOnlyMemory<byte>> data);

/// <summary>Where file data comes from: the local store (<see cref="StoreSource"/>) or a server over HTTP (the node agent).</summary>
public interface IContentSource
{
    /// <summary>
    /// Hands every content of WANTED to WRITE exactly once, each checked against its id (SHA-256): data that does not
    /// match is never handed over as complete. A source that reads locally completes synchronously.
    /// </summary>
    ValueTask DeliverAsync(IReadOnlyList<ContentWant> wanted, ContentWriter write, CancellationToken cancellation);
}
