using System.Formats.Tar;

namespace Sidus.Agent.Boot;

/// <summary>What extracting a layer did: entries written, and each entry refused with the reason.</summary>
internal sealed record ExtractResult(int Written, IReadOnlyList<string> Refused);

/// <summary>
/// Writes a node's override layer (ustar from the server) over the new root, without trusting the archive or the
/// image: names must be relative with no "." or ".." parts; each parent is opened component by component with
/// O_NOFOLLOW, so a symlink in the image (etc -> /somewhere) is never written through; a file is written under a
/// temporary name, given its owner and mode, then renamed over the target (a symlink at the target is replaced,
/// not followed). Only files, directories and symlinks are taken. An entry that breaks a rule is refused and
/// named; the others are still written.
/// </summary>
internal static class OverrideExtractor
{
    public const int MaxEntries = 10_000;
    public const long MaxFileBytes = 16L << 20;
    private const uint DefaultDirectoryMode = 0x1ED; // 0755
    private const string TempPrefix = ".sidus-override-";

    public static ExtractResult Extract(Stream tar, string root)
    {
        using var top = DirectoryHandle.Open(root);
        using var reader = new TarReader(tar, leaveOpen: true);
        var written = 0;
        var refused = new List<string>();
        var seen = 0;
        while (Next(reader, refused) is { } entry)
        {
            if (++seen > MaxEntries)
            {
                refused.Add($"more than {MaxEntries} entries: the rest ignored");
                break;
            }

            if (Check(entry) is { } why)
            {
                refused.Add($"{entry.Name}: {why}");
                continue;
            }

            try
            {
                Write(top, entry);
                written++;
            }
            catch (Exception e) when (e is LinuxException or IOException or RefusedException)
            {
                refused.Add($"{entry.Name}: {e.Message}");
            }
        }

        return new ExtractResult(written, refused);
    }

    /// <summary>
    /// The files and links the layer writes, as absolute paths ("/etc/hostname"): an update leaves them alone, they
    /// are the node's (directories are not listed: the image's own are updated as any).
    /// </summary>
    public static List<string> Paths(byte[] tar)
    {
        var paths = new List<string>();
        using var reader = new TarReader(new MemoryStream(tar, writable: false));
        var refused = new List<string>();
        while (paths.Count < MaxEntries && Next(reader, refused) is { } entry)
        {
            if (Check(entry) is null && entry.EntryType != TarEntryType.Directory)
            {
                paths.Add("/" + entry.Name.TrimStart('.').TrimStart('/'));
            }
        }

        return paths;
    }

    /// <summary>The next entry, or null at the end or when the archive is damaged (said in <paramref name="refused"/>).</summary>
    private static TarEntry? Next(TarReader reader, List<string> refused)
    {
        try
        {
            return reader.GetNextEntry(copyData: true);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            refused.Add("the archive is damaged: " + e.Message);
            return null;
        }
    }

    /// <summary>Why the entry's name or type is refused, or null.</summary>
    public static string? Check(TarEntry entry)
    {
        var name = entry.Name.TrimEnd('/');
        if (name.Length == 0 || name.StartsWith('/'))
        {
            return "absolute or empty path";
        }

        if (name.Contains('\0', StringComparison.Ordinal))
        {
            return "NUL in the path";
        }

        if (name.Split('/').Any(p => p is "" or "." or ".."))
        {
            return "'.', '..' or empty path component";
        }

        return entry.EntryType switch
        {
            TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.Directory or TarEntryType.SymbolicLink => entry.Length > MaxFileBytes
                ? $"{entry.Length} bytes; at most {MaxFileBytes}"
                : null,
            _ => $"type {entry.EntryType} is not taken (files, directories and symlinks only)",
        };
    }

    private static void Write(DirectoryHandle top, TarEntry entry)
    {
        var parts = entry.Name.TrimEnd('/').Split('/');
        var parents = new List<DirectoryHandle>();
        try
        {
            var dir = top;
            foreach (var part in parts[..^1])
            {
                dir = Descend(dir, Encoding.UTF8.GetBytes(part));
                parents.Add(dir);
            }

            var name = Encoding.UTF8.GetBytes(parts[^1]);
            var mode = (uint)entry.Mode & 0xFFF;
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    if (!dir.TryStat(name, out var st, out _))
                    {
                        dir.CreateDirectory(name, mode);
                        dir.SetOwner(name, (uint)entry.Uid, (uint)entry.Gid);
                        dir.SetPermissions(name, mode);
                    }
                    else if (st.Kind != FileKind.Directory)
                    {
                        throw new RefusedException($"the image has a {st.Kind} there, not a directory");
                    }

                    break;
                case TarEntryType.SymbolicLink:
                    Replace(dir, name, temp => dir.CreateSymlink(temp, Encoding.UTF8.GetBytes(entry.LinkName)), (uint)entry.Uid, (uint)entry.Gid, null);
                    break;
                default:
                    Replace(dir, name, temp =>
                    {
                        using var handle = dir.CreateExclusive(temp, 0x180);
                        using var output = new FileStream(handle, FileAccess.Write);
                        entry.DataStream?.CopyTo(output);
                    }, (uint)entry.Uid, (uint)entry.Gid, mode);
                    break;
            }
        }
        finally
        {
            foreach (var p in parents)
            {
                p.Dispose();
            }
        }
    }

    /// <summary>The child directory NAME, made (0755, root) when missing; refused when it is a symlink or not a directory.</summary>
    private static DirectoryHandle Descend(DirectoryHandle dir, byte[] name)
    {
        if (!dir.TryStat(name, out var st, out var errno))
        {
            if (errno != Errno.ENOENT)
            {
                throw new RefusedException($"cannot look at {Encoding.UTF8.GetString(name)} (errno {errno})");
            }

            dir.CreateDirectory(name, DefaultDirectoryMode);
        }
        else if (st.Kind != FileKind.Directory)
        {
            throw new RefusedException($"{Encoding.UTF8.GetString(name)} is a {st.Kind.ToString().ToLowerInvariant()} in the image: not written through");
        }

        return dir.OpenChild(name);
    }

    private static long _tempCounter;

    private static void Replace(DirectoryHandle dir, byte[] name, Action<byte[]> make, uint uid, uint gid, uint? mode)
    {
        if (dir.TryStat(name, out var st, out _) && st.Kind == FileKind.Directory)
        {
            throw new RefusedException("the image has a directory there");
        }

        // A counter, not a Guid: Guid.NewGuid wants OpenSSL, which the initramfs does not have.
        var temp = Encoding.UTF8.GetBytes(TempPrefix + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + Interlocked.Increment(ref _tempCounter).ToString(System.Globalization.CultureInfo.InvariantCulture));
        make(temp);
        var renamed = false;
        try
        {
            dir.SetOwner(temp, uid, gid);
            if (mode is { } m)
            {
                // After chown, which clears setuid/setgid.
                dir.SetPermissions(temp, m);
            }

            dir.Rename(temp, name);
            renamed = true;
        }
        finally
        {
            if (!renamed)
            {
                dir.Unlink(temp);
            }
        }
    }

    private sealed class RefusedException(string message) : Exception(message);
}
