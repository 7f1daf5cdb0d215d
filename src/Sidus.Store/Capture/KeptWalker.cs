namespace Sidus.Store.Capture;

/// <summary>
/// The copy of the walker a capture keeps on the golden client, beside the state cache (a directory every capture
/// leaves out), so that the next capture by the same sidus runs it and sends no program: on a recapture the walker's
/// upload and unpacking were a fifth of the time. Named by its SHA-256: the server's script looks for exactly that
/// name, and runs the copy only when it still hashes to it (<see cref="IsWhole"/>). Written under a name of its own
/// and renamed, so two captures at once never write into one file; the copies of other sidus builds are removed.
/// None is written where programs may not run.
/// </summary>
public static class KeptWalker
{
    private const string Prefix = "sidus-walk-";

    /// <summary>A temporary copy this old was left by a capture killed while it wrote: removed.</summary>
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(10);

    /// <summary>Where a walker whose SHA-256 is ID (lowercase hex) is kept on the client.</summary>
    public static string PathFor(string id) => $"{Path.GetDirectoryName(CaptureWalker.DefaultStatePath)}/{Prefix}{id}";

    /// <summary>Copies PROGRAM (the running walker: /proc/self/exe, even when its file is removed) to PATH.</summary>
    public static void Keep(string program, string path, TextWriter log)
    {
        var dir = Path.GetDirectoryName(path);
        var name = Path.GetFileName(path);
        if (dir is null || !IsKeptName(name))
        {
            log.WriteLine($"sidus-walk: --keep-as {path}: not a name the capture gives its walker; not kept");
            return;
        }

        var temporary = $"{path}.{Environment.ProcessId}.new";
        try
        {
            if (!FileOps.AllowsPrograms(dir))
            {
                return; // /var mounted noexec (a hardened system): a copy there could never run.
            }

            using (var source = File.OpenRead(program))
            using (var target = new FileStream(temporary, new FileStreamOptions
                   {
                       Mode = FileMode.CreateNew, Access = FileAccess.Write,
                       UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                   }))
            {
                source.CopyTo(target);
                target.Flush(flushToDisk: true); // never a torn program under the final name after a power cut
            }

            File.Move(temporary, path, overwrite: true);
            foreach (var other in new DirectoryInfo(dir).EnumerateFiles(Prefix + "*"))
            {
                var older = IsKeptName(other.Name) && other.Name != name;
                var abandoned = IsCopyBeingWritten(other.Name) && other.LastWriteTimeUtc < DateTime.UtcNow - AbandonedAfter;
                if (older || abandoned)
                {
                    other.Delete();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a cache: the capture is recorded, the next one sends the walker again.
            log.WriteLine($"sidus-walk: cannot keep a copy in {dir} for the next capture ({e.Message}); it will be sent again");
            try
            {
                File.Delete(temporary);
            }
            catch (Exception e2) when (e2 is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>
    /// Removes what captures keep on the client beside STATEPATH: the state cache (and a staged one), the kept walkers
    /// (and copies a killed capture left), then the directory when nothing else is in it. Nothing else there is
    /// touched (a node's agent may keep its own files in /var/lib/sidus).
    /// </summary>
    public static void Forget(string statePath, TextWriter log)
    {
        statePath = Path.GetFullPath(statePath);
        var dir = Path.GetDirectoryName(statePath)!;
        try
        {
            if (!Directory.Exists(dir))
            {
                return;
            }

            var ours = new DirectoryInfo(dir).EnumerateFiles().Where(file =>
                file.FullName == statePath || file.FullName == statePath + AtomicFile.TemporarySuffix || IsKeptName(file.Name) || IsCopyBeingWritten(file.Name));
            var removed = 0;
            foreach (var file in ours.ToList())
            {
                file.Delete();
                removed++;
            }

            // Only a directory that held what captures keep: one the image or an agent made stays as it is.
            if (removed > 0 && !Directory.EnumerateFileSystemEntries(dir).Any())
            {
                Directory.Delete(dir);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.WriteLine($"sidus-walk: cannot remove what earlier captures kept in {dir}: {e.Message}");
        }
    }

    /// <summary>Whether PROGRAM's SHA-256 is ID: a copy torn or damaged on the client's disk may still start, and
    /// would then fail every capture.</summary>
    public static bool IsWhole(string program, string id)
    {
        try
        {
            using var file = File.OpenRead(program);
            return ObjectId.HashStream(file).ToString() == id;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>A kept walker's name, then ".PID.new": the copy <see cref="Keep"/> writes before renaming it.</summary>
    private static bool IsCopyBeingWritten(string name) =>
        name.EndsWith(".new", StringComparison.Ordinal) && name.Length > Prefix.Length + 64 && IsKeptName(name[..(Prefix.Length + 64)]);

    /// <summary>sidus-walk- and 64 lowercase hex digits (no Regex: the walker is kept small).</summary>
    private static bool IsKeptName(string name) =>
        name.Length == Prefix.Length + 64 && name.StartsWith(Prefix, StringComparison.Ordinal) &&
        name.AsSpan(Prefix.Length).IndexOfAnyExcept("0123456789abcdef") < 0;
}
