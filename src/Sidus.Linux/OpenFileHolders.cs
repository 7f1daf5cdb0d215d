namespace Sidus.Linux;

/// <summary>
/// Which of some files a process has open right now, read from every /proc/PID/fd link: what lets one program (`sidus
/// store gc`) leave alone a file another (`sidus serve`, streaming an export to a node) still reads. Descriptors of
/// processes this user may not see count as none (root sees all, and the data directory is root's).
/// </summary>
public static class OpenFileHolders
{
    public static IReadOnlySet<string> OpenAmong(IReadOnlyCollection<string> paths)
    {
        var wanted = paths.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        var open = new HashSet<string>(StringComparer.Ordinal);
        if (wanted.Count == 0)
        {
            return open;
        }

        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out _))
            {
                continue;
            }

            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(process, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && wanted.Contains(target))
                    {
                        open.Add(target);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended meanwhile, or its descriptors are not ours to see.
            }
        }

        return open;
    }
}
