using Sidus.Store;
using Sidus.Store.Objects;
using Sidus.Store.Packs;
using Sidus.Store.Serving;

namespace Sidus.Server.Images;

/// <summary>
/// A file's data from the store, whole or a byte range of it, as the pieces the store keeps. Whole files come
/// through the <see cref="ServingCache"/>: the whole content id is checked the first time this process sends it,
/// and not again (frames still carry their zstd checksum). A range of content not yet verified reads only the chunks
/// it overlaps, each checked against its own id; a range of verified content is read unchecked like a whole file.
/// </summary>
public static class ContentPieces
{
    public static IEnumerable<ReadOnlyMemory<byte>> Read(ServingCache cache, ObjectId content, long size, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + length, size);
        if (length == 0)
        {
            return [];
        }

        return offset == 0 && length == size
            ? cache.Read(content)
            : Range(cache.Repository.Objects, content, offset, length, cache.Verified.Contains(content));
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Range(PackSet packs, ObjectId content, long offset, long length, bool verified)
    {
        var data = verified ? packs.ReadTrusted(content, out var kind) : packs.Read(content, out kind);
        if (kind == ObjectKind.Blob)
        {
            if (offset + length > data.Length)
            {
                throw new CorruptObjectException($"file content {content} is shorter than its recorded size");
            }

            yield return data.Slice((int)offset, (int)length);
            yield break;
        }

        if (kind != ObjectKind.ChunkList)
        {
            throw new CorruptObjectException($"object {content} is a {kind}, not file content");
        }

        var end = offset + length;
        long at = 0;
        foreach (var (id, chunkLength) in ContentStore.DecodeChunkList(data.Span))
        {
            var chunkEnd = at + chunkLength;
            if (chunkEnd > offset && at < end)
            {
                var chunk = verified ? packs.ReadTrusted(id, out _) : packs.Read(id, ObjectKind.Blob);
                if (chunk.Length != chunkLength)
                {
                    throw new CorruptObjectException($"chunk {id} of {content} has {chunk.Length} bytes, expected {chunkLength}");
                }

                var from = (int)Math.Max(0, offset - at);
                var to = (int)Math.Min(chunkLength, end - at);
                yield return chunk.Slice(from, to - from);
            }

            if (chunkEnd >= end)
            {
                yield break;
            }

            at = chunkEnd;
        }

        throw new CorruptObjectException($"file content {content} is shorter than its recorded size");
    }
}
