using Sidus.Store;
using Sidus.Store.Objects;
using Sidus.Store.Packs;

namespace Sidus.Server.Images;

/// <summary>
/// A file's data from the store, whole or a byte range of it, as the pieces the store keeps. Whole files come
/// through <see cref="ContentStore.Read"/>, which also checks the whole content id at the end; a range reads only
/// the chunks it overlaps, each checked against its own id.
/// </summary>
public static class ContentPieces
{
    public static IEnumerable<ReadOnlyMemory<byte>> Read(PackSet packs, ObjectId content, long size, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(packs);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + length, size);
        if (length == 0)
        {
            return [];
        }

        return offset == 0 && length == size ? ContentStore.Read(packs, content) : Range(packs, content, offset, length);
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Range(PackSet packs, ObjectId content, long offset, long length)
    {
        var data = packs.Read(content, out var kind);
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
                var chunk = packs.Read(id, ObjectKind.Blob);
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
