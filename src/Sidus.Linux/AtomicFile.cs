namespace Sidus.Linux;

/// <summary>
/// Writes a file so that a reader, a crash or a power cut sees either the old file or the whole new one, never part:
/// the bytes go to a temporary name beside the target, are flushed to disk, renamed over the target, and the rename
/// itself is made durable by syncing the directory. The one way Sidus replaces a file it owns (refs, records, caches,
/// exports); a failure removes the temporary file and leaves the target as it was.
/// </summary>
public static class AtomicFile
{
    /// <summary>The suffix of the temporary file (FILE.tmp): recognisable, so leftovers of a killed writer can be cleared.</summary>
    public const string TemporarySuffix = ".tmp";

    /// <summary>Replaces PATH with CONTENT.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var bytes = content.ToArray();
        Produce(path, temporary => WriteNew(temporary, bytes, durable: false)); // the commit makes it durable
    }

    /// <summary>Replaces PATH with TEXT (UTF-8, no byte order mark).</summary>
    public static void WriteText(string path, string text) => Write(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Replaces PATH with what WRITE puts in the stream it is given.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        Produce(path, temporary =>
        {
            using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            write(stream);
        });
    }

    /// <summary>
    /// Replaces PATH with the file PRODUCE creates at the temporary path it is given (a tool such as mkfs.erofs writes
    /// it, or a stream the caller fills). An existing temporary file of an earlier writer is removed first.
    /// </summary>
    public static void Produce(string path, Action<string> produce)
    {
        ArgumentNullException.ThrowIfNull(produce);
        var full = Path.GetFullPath(path);
        CommitOrRemove(Prepare(full, produce), full);
    }

    /// <summary>
    /// Writes CONTENT to PATH's temporary file and makes it durable, for a caller that replaces PATH with it later
    /// (<see cref="Commit"/>) or deletes it: the slow half of <see cref="Write(string, ReadOnlySpan{byte})"/>, done
    /// ahead. Returns the temporary file's path.
    /// </summary>
    public static string Stage(string path, ReadOnlySpan<byte> content)
    {
        var bytes = content.ToArray();
        return Prepare(Path.GetFullPath(path), temporary => WriteNew(temporary, bytes, durable: true));
    }

    private static void WriteNew(string temporary, byte[] bytes, bool durable)
    {
        using var handle = File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.Write);
        RandomAccess.Write(handle, bytes, 0);
        if (durable)
        {
            FileOps.Fsync(handle);
        }
    }

    /// <summary>FULL's temporary file, made by PRODUCE after any left by an earlier writer is removed; removed again
    /// when PRODUCE fails.</summary>
    private static string Prepare(string full, Action<string> produce)
    {
        var temporary = full + TemporarySuffix;
        File.Delete(temporary);
        try
        {
            produce(temporary);
            return temporary;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static void CommitOrRemove(string temporary, string target)
    {
        try
        {
            Commit(temporary, target);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Makes the complete file TEMPORARY durable and renames it to TARGET (replacing it), then makes the rename durable.
    /// For writers that name their temporary file themselves (a pack being streamed in a staging directory).
    /// </summary>
    public static void Commit(string temporary, string target)
    {
        using (var handle = File.OpenHandle(temporary, FileMode.Open, FileAccess.ReadWrite))
        {
            FileOps.Fsync(handle);
        }

        File.Move(temporary, target, overwrite: true);
        SyncDirectoryOf(target);
    }

    /// <summary>Makes the entries of PATH's directory (a rename, a new or removed name) durable.</summary>
    public static void SyncDirectoryOf(string path)
    {
        using var directory = DirectoryHandle.Open(Path.GetDirectoryName(Path.GetFullPath(path))!);
        directory.Fsync();
    }
}
