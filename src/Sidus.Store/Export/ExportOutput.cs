namespace Sidus.Store.Export;

/// <summary>
/// Where an export goes: FILE is written as FILE.tmp and renamed over FILE only when complete (a failure or Ctrl-C
/// leaves no partial FILE), or standard output for "-".
/// </summary>
public static class ExportOutput
{
    public const string StandardOutput = "-";
    public const string TemporarySuffix = AtomicFile.TemporarySuffix;

    /// <summary>Runs WRITE with a stream to FILE.tmp, then makes it durable and renames it to FILE.</summary>
    public static long WriteFile(string file, Action<Stream> write)
    {
        if (file == StandardOutput)
        {
            using var stdout = Console.OpenStandardOutput();
            write(stdout);
            stdout.Flush();
            return 0;
        }

        return Produce(file, temporary =>
        {
            using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
            write(stream);
            stream.Flush(flushToDisk: true);
        });
    }

    /// <summary>
    /// Runs PRODUCE, which must create the file it is given (a tool such as mksquashfs writes it), then makes that
    /// file durable and renames it to FILE. Returns FILE's length.
    /// </summary>
    public static long Produce(string file, Action<string> produce)
    {
        var full = Path.GetFullPath(file);
        if (Directory.Exists(full))
        {
            throw new StoreException($"{file} is a directory: give the path of the file to write", StoreErrorKind.Usage);
        }

        AtomicFile.Produce(full, produce);
        return new FileInfo(full).Length;
    }
}
