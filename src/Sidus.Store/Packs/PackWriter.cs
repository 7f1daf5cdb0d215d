using Sidus.Store.Compression;

namespace Sidus.Store.Packs;

/// <summary>
/// Writes one new pack in the store's staging directory. Frames are appended by any thread; <see cref="Commit"/>
/// makes the pack durable and moves it into place, so a pack is either whole in packs/ or absent.
/// </summary>
public sealed class PackWriter : IDisposable
{
    private readonly object _gate = new();
    private readonly string _stagingDirectory;
    private readonly string _packDirectory;
    private readonly string _tempPath;
    private readonly SafeFileHandle _file;
    private readonly List<IndexRecord> _records = [];
    private long _length;
    private bool _done;

    // Write-back of the pack starts each time this many bytes were added (one at a time, beside the writes; no journal
    // commit): the commit's flush then waits for the last few, not for the whole pack (17 ms of an 18 MB capture's).
    private const long FlushEvery = 8 << 20;
    private long _unflushed;
    private Task _flushing = Task.CompletedTask;
    private IOException? _flushFailure;

    public PackWriter(string stagingDirectory, string packDirectory)
    {
        _stagingDirectory = stagingDirectory;
        _packDirectory = packDirectory;
        _tempPath = Path.Combine(stagingDirectory, $"pack-{Guid.NewGuid():N}.tmp");
        _file = File.OpenHandle(_tempPath, FileMode.CreateNew, FileAccess.ReadWrite);
        RandomAccess.Write(_file, PackFormat.PackMagic, 0);
        _length = PackFormat.MagicLength;
    }

    public long Length => Interlocked.Read(ref _length);

    public int ObjectCount
    {
        get
        {
            lock (_gate)
            {
                return _records.Count;
            }
        }
    }

    /// <summary>Appends one compressed frame holding the given objects (offsets into the decompressed frame).</summary>
    public void AddFrame(ReadOnlySpan<byte> compressed, int rawLength, ReadOnlySpan<PendingObject> objects)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_done, this);
            if (_flushFailure is { } failed)
            {
                throw WriteFailed(failed);
            }

            var offset = _length;
            try
            {
                RandomAccess.Write(_file, compressed, offset);
            }
            catch (IOException e) when (e is not StoreException)
            {
                throw WriteFailed(e);
            }

            _length += compressed.Length;
            _unflushed += compressed.Length;
            if (_unflushed >= FlushEvery && _flushing.IsCompleted)
            {
                _unflushed = 0;
                _flushing = Task.Run(FlushAhead);
            }

            foreach (var o in objects)
            {
                _records.Add(new IndexRecord(o.Id, o.Kind, offset, compressed.Length, rawLength, o.Offset, o.Length));
            }
        }
    }

    private void FlushAhead()
    {
        try
        {
            FileOps.StartWriteBack(_file);
        }
        catch (IOException e)
        {
            // sync_file_range only starts the write-back: an error of the write itself reaches the commit's fsync.
            // What it may report here (a failed earlier write-back, seen once by Linux) is kept for that commit.
            _flushFailure ??= e;
        }
    }

    /// <summary>Waits for a flush begun ahead (the file is not closed under it); its failure, if any.</summary>
    private IOException? AwaitFlush()
    {
        _flushing.Wait();
        return _flushFailure;
    }

    /// <summary>Compresses and appends one frame of raw bytes.</summary>
    public void AddRawFrame(ReadOnlySpan<byte> raw, ReadOnlySpan<PendingObject> objects, int level)
    {
        var bound = Zstd.CompressBound(raw.Length);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(bound);
        try
        {
            var n = Zstd.Compress(raw, buffer, level);
            AddFrame(buffer.AsSpan(0, n), raw.Length, objects);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A failed write to the store, said as such (not as a problem with what was being imported).</summary>
    public StoreException WriteFailed(IOException e)
    {
        var full = (e.HResult & 0xFFFF) == Linux.Errno.ENOSPC || e.Message.Contains("No space left", StringComparison.Ordinal);
        var advice = full
            ? "the disk is full: free space (or run 'sidus store gc'), then run the command again; nothing was recorded"
            : "nothing was recorded";
        return new StoreException($"cannot write to the store in {_packDirectory}: {e.Message} ({advice})", e);
    }

    /// <summary>
    /// Flushes pack and index to disk and renames them into the pack directory. Returns the pack's name, or null
    /// when nothing was written (then nothing is left behind).
    /// </summary>
    public string? Commit()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_done, this);
            _done = true;
            if (AwaitFlush() is { } failed)
            {
                _file.Dispose();
                File.Delete(_tempPath);
                throw WriteFailed(failed);
            }

            if (_records.Count == 0)
            {
                _file.Dispose();
                File.Delete(_tempPath);
                return null;
            }

            // One id per object: the first copy wins if two threads raced to store the same content.
            var sorted = _records
                .GroupBy(r => r.Id)
                .Select(g => g.First())
                .OrderBy(r => r.Id)
                .ToList();
            try
            {
                return CommitSorted(sorted);
            }
            catch (IOException e) when (e is not StoreException)
            {
                File.Delete(_tempPath);
                throw WriteFailed(e);
            }
        }
    }

    private string CommitSorted(List<IndexRecord> sorted)
    {
        var index = PackFormat.EncodeIndex(sorted);
        var name = "pack-" + ObjectId.Hash(index).ToString();
        var indexTemp = Path.Combine(_stagingDirectory, name + ".idx.tmp");
        File.WriteAllBytes(indexTemp, index);

        _file.Dispose();
        // Pack first, index second: an index in packs/ always has its pack.
        AtomicFile.Commit(_tempPath, Path.Combine(_packDirectory, name + ".pack"));
        AtomicFile.Commit(indexTemp, Path.Combine(_packDirectory, name + ".idx"));

        return name;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (!_done)
            {
                _done = true;
                AwaitFlush();
                _file.Dispose();
                File.Delete(_tempPath);
            }
        }
    }
}

/// <summary>An object placed in a frame being built.</summary>
public readonly record struct PendingObject(ObjectId Id, ObjectKind Kind, int Offset, int Length);
