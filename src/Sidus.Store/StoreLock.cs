namespace Sidus.Store;

/// <summary>
/// The store's single-writer lock (flock on store/lock). The holder writes its pid and operation into the file so
/// a second writer can say who is in the way. The kernel drops the lock when the process dies, even on kill -9.
/// </summary>
public sealed class StoreLock : IDisposable
{
    private readonly SafeFileHandle _file;

    private StoreLock(SafeFileHandle file) => _file = file;

    public static StoreLock Acquire(string path, string operation, TimeSpan wait, Action<string>? onWaiting = null)
    {
        var file = FileOps.OpenForLocking(path);
        try
        {
            var deadline = DateTime.UtcNow + wait;
            var told = false;
            while (!FileOps.TryLockExclusive(file, wait: false))
            {
                if (DateTime.UtcNow >= deadline)
                {
                    throw new StoreException(
                        $"the store is busy: {Holder(path)} is writing it. Try again when it has finished (or pass --wait SECONDS).",
                        StoreErrorKind.Busy);
                }

                if (!told)
                {
                    onWaiting?.Invoke($"waiting for {Holder(path)} to finish writing the store...");
                    told = true;
                }

                Thread.Sleep(100);
            }

            var note = Encoding.UTF8.GetBytes($"{Environment.ProcessId} {operation}\n");
            FileOps.Truncate(file, 0);
            RandomAccess.Write(file, note, 0);
            return new StoreLock(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static string Holder(string path)
    {
        try
        {
            using var file = FileOps.OpenForLocking(path);
            var line = Encoding.UTF8.GetString(FileOps.ReadSmallFile(file)).Split('\n')[0].Trim();
            if (string.IsNullOrEmpty(line))
            {
                return "another sidus process";
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            return space < 0 ? $"process {line}" : $"process {line[..space]} ('{line[(space + 1)..]}')";
        }
        catch (IOException)
        {
            return "another sidus process";
        }
    }

    public void Dispose()
    {
        FileOps.Truncate(_file, 0);
        _file.Dispose();
    }
}
