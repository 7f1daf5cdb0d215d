using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Sidus.Store.Objects;

namespace Sidus.Store.Serving;

/// <summary>
/// The server side of a node's fetch, as plain functions over a <see cref="Repository"/>: the host (sidus serve, a
/// test) maps them to <see cref="ServingRoutes"/>. Data is verified against its id when read from the store.
/// </summary>
public static class ContentServer
{
    public const int MaxBatchIds = 4096;
    public const int FrameHeaderLength = ObjectId.Size + sizeof(long);
    private const int HexIdLength = ObjectId.Size * 2;

    /// <summary>The manifest of VERSION (a commit id) with its SHA-256, built in memory.</summary>
    public static (byte[] Manifest, string Sha256) Manifest(Repository repository, ObjectId version, CancellationToken cancellation)
    {
        var commit = repository.ReadCommit(version);
        using var buffer = new MemoryStream();
        ManifestFormat.Write(repository, commit, buffer, cancellation);
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
    /// Parses a batch request body: hex ids, one per line. Returns an error text for a body that is not one
    /// (too many ids, a line that is not 64 hex digits) instead of throwing: it is the client's mistake.
    /// </summary>
    public static bool TryParseBatch(ReadOnlySpan<byte> body, out List<ObjectId> ids, out string? error)
    {
        ids = [];
        error = null;
        foreach (var range in body.Split((byte)'\n'))
        {
            var line = body[range].TrimEnd((byte)'\r');
            if (line.IsEmpty)
            {
                continue;
            }

            if (ids.Count == MaxBatchIds)
            {
                error = $"a batch holds at most {MaxBatchIds} ids";
                return false;
            }

            if (line.Length != HexIdLength || !ObjectId.TryParse(Encoding.ASCII.GetString(line), out var id))
            {
                error = $"line {ids.Count + 1} is not a 64-digit hex content id";
                return false;
            }

            ids.Add(id);
        }

        return true;
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

    /// <summary>Writes each id's frame (id, 8-byte big-endian length, data) through CACHE, as <see cref="WriteContentAsync(ServingCache, ObjectId, Stream, CancellationToken)"/>.</summary>
    public static async Task WriteBatchAsync(ServingCache cache, IReadOnlyList<ObjectId> ids, Stream output, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(ids);
        var header = new byte[FrameHeaderLength];
        foreach (var id in ids)
        {
            id.Write(header);
            BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(ObjectId.Size), ContentStore.Length(cache.Repository.Objects, id));
            await output.WriteAsync(header, cancellation);
            foreach (var piece in cache.Read(id))
            {
                await output.WriteAsync(piece, cancellation);
            }
        }
    }

    /// <summary>Writes each id's frame: id, 8-byte big-endian length, data; every content hashed as it is read.</summary>
    public static async Task WriteBatchAsync(Repository repository, IReadOnlyList<ObjectId> ids, Stream output, CancellationToken cancellation)
    {
        var header = new byte[FrameHeaderLength];
        foreach (var id in ids)
        {
            var pieces = ContentStore.Read(repository.Objects, id).ToList();
            id.Write(header);
            BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(ObjectId.Size), pieces.Sum(p => (long)p.Length));
            await output.WriteAsync(header, cancellation);
            foreach (var piece in pieces)
            {
                await output.WriteAsync(piece, cancellation);
            }
        }
    }
}
