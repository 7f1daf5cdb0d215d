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

    /// <summary>zstd level of <see cref="WriteContentsAsync"/>: the fastest (about 500 MB/s a core), which still
    /// halves a Debian tree's bytes (bench/RESULTS.md, node updates): on a fast link a higher level costs more time
    /// than the bytes it saves.</summary>
    public const int ContentsZstdLevel = 1;

    /// <summary>Smaller data goes raw: a frame of zstd saves nothing on it.</summary>
    private const int CompressFrom = 512;

    /// <summary>Larger data goes raw, streamed: compressing it would hold it whole in memory.</summary>
    private const long CompressUpTo = 64L << 20;

    /// <summary>
    /// Writes each id's <see cref="ContentsFrame"/> through CACHE (the answer of <see cref="ContentRoutes.Contents"/>):
    /// compressed with zstd when ZSTD (the node takes it) and that is smaller by a tenth, otherwise raw.
    /// </summary>
    public static async Task WriteContentsAsync(ServingCache cache, IReadOnlyList<ObjectId> ids, bool zstd, Stream output, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(ids);
        var header = new byte[ContentsFrame.HeaderLength];
        var id = new byte[ObjectId.Size];
        foreach (var content in ids)
        {
            content.Write(id);
            var length = ContentStore.Length(cache.Repository.Objects, content);
            if (zstd && length is >= CompressFrom and <= CompressUpTo)
            {
                byte[]? data = null;
                var packed = cache.Compressed.GetOrMake(content, () =>
                {
                    data = Whole(cache, content, length);
                    var made = Compression.Zstd.Compress(data, ContentsZstdLevel);
                    return made.Length < length - length / 10 ? made : null;
                });
                var (encoding, body) = packed is not null ? (ContentsFrame.Zstd, packed) : (ContentsFrame.Raw, data ?? Whole(cache, content, length));
                ContentsFrame.WriteHeader(header, id, length, encoding, body.Length);
                await output.WriteAsync(header, cancellation);
                await output.WriteAsync(body, cancellation);
                continue;
            }

            ContentsFrame.WriteHeader(header, id, length, ContentsFrame.Raw, length);
            await output.WriteAsync(header, cancellation);
            foreach (var piece in cache.Read(content))
            {
                await output.WriteAsync(piece, cancellation);
            }
        }
    }

    /// <summary>CONTENT's LENGTH bytes in one array.</summary>
    private static byte[] Whole(ServingCache cache, ObjectId content, long length)
    {
        var data = new byte[length];
        var at = 0;
        foreach (var piece in cache.Read(content))
        {
            piece.Span.CopyTo(data.AsSpan(at));
            at += piece.Length;
        }

        return data;
    }

    private static void FrameHeader(byte[] header, ObjectId id, long length)
    {
        var bytes = new byte[ObjectId.Size];
        id.Write(bytes);
        ContentBatchFrame.WriteHeader(header, bytes, length);
    }
}
