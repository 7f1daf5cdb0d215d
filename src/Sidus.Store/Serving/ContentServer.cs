using Sidus.Wire.Contracts;

namespace Sidus.Store.Serving;

/// <summary>
/// The server side of a node's fetch, as plain functions over a <see cref="Repository"/>: the host (sidus serve, a
/// test) maps them to <see cref="ContentRoutes"/>. Data is verified against its id when read from the store.
/// </summary>
public static class ContentServer
{
    public const int FrameHeaderLength = ContentBatchFrame.HeaderLength;

    /// <summary>The manifest of VERSION (a commit id) with its SHA-256, built in memory.</summary>
    public static (byte[] Manifest, string Sha256) Manifest(Repository repository, ObjectId version, CancellationToken cancellation)
    {
        var commit = repository.ReadCommit(version);
        using var buffer = new MemoryStream();
        VersionManifest.Write(repository, commit, buffer, cancellation);
        var bytes = buffer.ToArray();
        return (bytes, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    /// <summary>True when ID names file content in the store (a blob or a chunk list).</summary>
    public static bool HasContent(Repository repository, ObjectId id) =>
        repository.Objects.TryGetKind(id, out var kind) && kind is ObjectKind.Blob or ObjectKind.ChunkList;

    /// <summary>Writes one file's data to OUTPUT.</summary>
    public static async Task WriteContentAsync(Repository repository, ObjectId id, Stream output, CancellationToken cancellation)
    {
        foreach (var piece in ContentStore.Read(repository.Objects, id))
        {
            await output.WriteAsync(piece, cancellation);
        }
    }

    /// <summary>
    /// Writes one file's data to OUTPUT through CACHE: hashed only the first time this process sends it (see
    /// <see cref="ServingCache"/>), streamed from the frames as they are, no copy on the way.
    /// </summary>
    public static async Task WriteContentAsync(ServingCache cache, ObjectId id, Stream output, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(cache);
        foreach (var piece in cache.Read(id))
        {
            await output.WriteAsync(piece, cancellation);
        }
    }

    /// <summary>Writes each id's <see cref="ContentBatchFrame"/> through CACHE, as <see cref="WriteContentAsync(ServingCache, ObjectId, Stream, CancellationToken)"/>.</summary>
    public static async Task WriteBatchAsync(ServingCache cache, IReadOnlyList<ObjectId> ids, Stream output, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(ids);
        var header = new byte[FrameHeaderLength];
        foreach (var id in ids)
        {
            FrameHeader(header, id, ContentStore.Length(cache.Repository.Objects, id));
            await output.WriteAsync(header, cancellation);
            foreach (var piece in cache.Read(id))
            {
                await output.WriteAsync(piece, cancellation);
            }
        }
    }

    /// <summary>Writes each id's <see cref="ContentBatchFrame"/>; every content hashed as it is read.</summary>
    public static async Task WriteBatchAsync(Repository repository, IReadOnlyList<ObjectId> ids, Stream output, CancellationToken cancellation)
    {
        var header = new byte[FrameHeaderLength];
        foreach (var id in ids)
        {
            var pieces = ContentStore.Read(repository.Objects, id).ToList();
            FrameHeader(header, id, pieces.Sum(p => (long)p.Length));
            await output.WriteAsync(header, cancellation);
            foreach (var piece in pieces)
            {
                await output.WriteAsync(piece, cancellation);
            }
        }
    }

    private static void FrameHeader(byte[] header, ObjectId id, long length)
    {
        var bytes = new byte[ObjectId.Size];
        id.Write(bytes);
        ContentBatchFrame.WriteHeader(header, bytes, length);
    }
}
