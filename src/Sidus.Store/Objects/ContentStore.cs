using System.Buffers;
using Sidus.Store.Chunking;
using Sidus.Store.Packs;

namespace Sidus.Store.Objects;

/// <summary>
/// File data in and out of the store. Data up to <see cref="ChunkingThreshold"/> is one blob; bigger data is cut
/// into FastCDC chunks listed by a chunk-list object. Either way the content id is the SHA-256 of the data, the same
/// number `sha256sum` prints for a file without holes.
/// </summary>
public static class ContentStore
{
    public const int ChunkingThreshold = PackFormat.MaxObjectLength;
    private const byte ChunkListVersion = 1;

    /// <summary>Reads a file's data (its extents, if sparse), stores what is new, and returns the content id.</summary>
    public static ObjectId StoreFile(ObjectWriter writer, SafeFileHandle file, long dataLength, IReadOnlyList<Extent>? extents)
    {
        if (dataLength <= ChunkingThreshold)
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(dataLength, 1));
            try
            {
                var span = buffer.AsSpan(0, (int)dataLength);
                ReadData(file, extents, dataLength, span);
                var id = ObjectId.Hash(span);
                writer.Put(id, ObjectKind.Blob, span);
                return id;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        using var stream = new FileDataStream(file, extents, dataLength);
        return StoreStream(writer, stream);
    }

    /// <summary>
    /// Stores all of STREAM as file content (chunked when big) and returns the content id. STORECHUNK, when given,
    /// stores each chunk (its id computed here) in place of <see cref="ObjectWriter.Put"/> on this thread: a caller
    /// that reads a stream as it arrives hands the compression to other threads and reads on. The span is valid only
    /// during the call.
    /// </summary>
    public static ObjectId StoreStream(ObjectWriter writer, Stream stream, Action<ObjectId, ReadOnlySpan<byte>>? storeChunk = null)
    {
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var chunker = new Chunker(stream);
        var list = new ByteWriter(4096);
        var chunks = new List<(ObjectId Id, int Length)>();
        while (true)
        {
            var chunk = chunker.Next();
            if (chunk.IsEmpty)
            {
                break;
            }

            whole.AppendData(chunk.Span);
            var id = ObjectId.Hash(chunk.Span);
            if (storeChunk is null)
            {
                writer.Put(id, ObjectKind.Blob, chunk.Span);
            }
            else
            {
                storeChunk(id, chunk.Span);
            }

            chunks.Add((id, chunk.Length));
        }

        var contentId = ObjectId.FromHash(whole);
        if (chunks.Count <= 1)
        {
            // One chunk (or none): the chunk is the whole data, already stored as a blob under the content id.
            if (chunks.Count == 0)
            {
                writer.Put(contentId, ObjectKind.Blob, []);
            }

            return contentId;
        }

        list.Byte(ChunkListVersion);
        list.Varint((ulong)chunks.Count);
        foreach (var (id, length) in chunks)
        {
            list.Id(id);
            list.Varint((ulong)length);
        }

        writer.Put(contentId, ObjectKind.ChunkList, list.WrittenSpan);
        return contentId;
    }

    /// <summary>The pieces of a content object in order, verified against the content id as a whole.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Read(PackSet packs, ObjectId contentId)
    {
        var data = packs.Read(contentId, out var kind);
        if (kind == ObjectKind.Blob)
        {
            yield return data;
            yield break;
        }

        if (kind != ObjectKind.ChunkList)
        {
            throw new CorruptObjectException($"object {contentId} is a {kind}, not file content");
        }

        var chunks = DecodeChunkList(data.Span);
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (id, length) in chunks)
        {
            var chunk = packs.Read(id, ObjectKind.Blob);
            if (chunk.Length != length)
            {
                throw new CorruptObjectException($"chunk {id} of {contentId} has {chunk.Length} bytes, expected {length}");
            }

            whole.AppendData(chunk.Span);
            yield return chunk;
        }

        if (ObjectId.FromHash(whole) != contentId)
        {
            throw new CorruptObjectException($"file content {contentId} is damaged (chunks do not hash to it)");
        }
    }

    /// <summary>
    /// The pieces of a content object in order, WITHOUT hash checks (lengths are still checked): only for content
    /// that <see cref="Read"/> verified earlier in this process over the same <see cref="PackSet"/>.
    /// </summary>
    public static IEnumerable<ReadOnlyMemory<byte>> ReadTrusted(PackSet packs, ObjectId contentId)
    {
        var data = packs.ReadTrusted(contentId, out var kind);
        if (kind == ObjectKind.Blob)
        {
            yield return data;
            yield break;
        }

        if (kind != ObjectKind.ChunkList)
        {
            throw new CorruptObjectException($"object {contentId} is a {kind}, not file content");
        }

        foreach (var (id, length) in DecodeChunkList(data.Span))
        {
            var chunk = packs.ReadTrusted(id, out var chunkKind);
            if (chunkKind != ObjectKind.Blob || chunk.Length != length)
            {
                throw new CorruptObjectException($"chunk {id} of {contentId} is a {chunkKind} of {chunk.Length} bytes, expected a blob of {length}");
            }

            yield return chunk;
        }
    }

    /// <summary>The byte length of a content object: the blob's indexed length, or the sum of its chunk list (no chunk is read).</summary>
    public static long Length(PackSet packs, ObjectId contentId)
    {
        if (!packs.TryGetKind(contentId, out var kind))
        {
            throw new MissingObjectException(contentId);
        }

        return kind == ObjectKind.Blob
            ? packs.StoredLength(contentId)
            : DecodeChunkList(packs.Read(contentId, ObjectKind.ChunkList).Span).Sum(c => (long)c.Length);
    }

    /// <summary>The objects a content id needs: itself, plus its chunks when it is a chunk list.</summary>
    public static IEnumerable<ObjectId> Dependencies(PackSet packs, ObjectId contentId)
    {
        yield return contentId;
        if (packs.TryGetKind(contentId, out var kind) && kind == ObjectKind.ChunkList)
        {
            foreach (var (id, _) in DecodeChunkList(packs.Read(contentId, ObjectKind.ChunkList).Span))
            {
                yield return id;
            }
        }
    }

    public static List<(ObjectId Id, int Length)> DecodeChunkList(ReadOnlySpan<byte> data)
    {
        var r = new ByteReader(data);
        if (r.Byte() != ChunkListVersion)
        {
            throw new CorruptObjectException("unknown chunk list format");
        }

        var count = r.Length(1 << 26);
        var chunks = new List<(ObjectId, int)>(count);
        for (var i = 0; i < count; i++)
        {
            chunks.Add((r.Id(), r.Length(FastCdc.MaxSize)));
        }

        r.ExpectEnd();
        return chunks;
    }

    private static void ReadData(SafeFileHandle file, IReadOnlyList<Extent>? extents, long dataLength, Span<byte> destination)
    {
        if (extents is null)
        {
            ReadExactly(file, destination, 0);
            return;
        }

        var at = 0;
        foreach (var extent in extents)
        {
            ReadExactly(file, destination.Slice(at, (int)extent.Length), extent.Offset);
            at += (int)extent.Length;
        }

        if (at != dataLength)
        {
            throw new IOException("file changed while it was read");
        }
    }

    private static void ReadExactly(SafeFileHandle file, Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            var n = RandomAccess.Read(file, destination, offset);
            if (n == 0)
            {
                throw new IOException("file shrank while it was read");
            }

            destination = destination[n..];
            offset += n;
        }
    }

    /// <summary>A file's data as one stream: all of it, or only its data extents (in order) when it is sparse.</summary>
    public static Stream OpenData(SafeFileHandle file, IReadOnlyList<Extent>? extents, long dataLength) =>
        new FileDataStream(file, extents, dataLength);

    private sealed class FileDataStream(SafeFileHandle file, IReadOnlyList<Extent>? extents, long dataLength) : ReadOnlyStream
    {
        private readonly IReadOnlyList<Extent> _extents = extents ?? [new Extent(0, dataLength)];
        private int _extent;
        private long _inExtent;

        public override int Read(Span<byte> buffer)
        {
            while (_extent < _extents.Count)
            {
                var e = _extents[_extent];
                var left = e.Length - _inExtent;
                if (left == 0)
                {
                    _extent++;
                    _inExtent = 0;
                    continue;
                }

                var n = RandomAccess.Read(file, buffer[..(int)Math.Min(buffer.Length, left)], e.Offset + _inExtent);
                if (n == 0)
                {
                    throw new IOException("file shrank while it was read");
                }

                _inExtent += n;
                return n;
            }

            return 0;
        }

        public override long Length => dataLength;
    }
}
