using System.Runtime.InteropServices;
using Sidus.Artifacts.Versions;

namespace Sidus.Artifacts.Initramfs;

/// <summary>
/// The few programs of the image the agent runs before switch_root, with the shared libraries they link (found by
/// reading their ELF DT_NEEDED entries and resolving them in the image's library directories, transitively): today
/// only mke2fs, which formats a blank disk for shared mode's persistent overlay, and its /etc/mke2fs.conf. A tool the
/// image lacks is left out; the agent then says so if it is ever needed.
/// </summary>
public static class InitramfsTools
{
    /// <summary>(path in the image, path in the initramfs) of each tool.</summary>
    public static readonly IReadOnlyList<(string Image, string Initramfs)> Programs = [("/sbin/mke2fs", "sbin/mke2fs")];

    public static readonly IReadOnlyList<string> Configuration = ["/etc/mke2fs.conf"];

    private const int MaxLibraries = 64;

    /// <summary>Where the image's dynamic loader looks for libraries, in its order (Debian multiarch first).</summary>
    public static IReadOnlyList<string> LibraryDirectories => RuntimeInformation.ProcessArchitecture == Architecture.Arm64
        ? ["/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]
        : ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"];

    /// <summary>The files to add: (initramfs path, mode, data). Libraries already in WRITTEN are not repeated.</summary>
    public static List<(string Path, uint Mode, byte[] Data)> Collect(VersionFiles files, IReadOnlySet<string> written)
    {
        var result = new List<(string, uint, byte[])>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>();
        foreach (var (image, initramfs) in Programs)
        {
            if (files.TryReadFile(image) is not { } program)
            {
                continue;
            }

            result.Add((initramfs, 0x1ED, program));
            foreach (var name in ElfNeeded.Read(program))
            {
                pending.Enqueue(name);
            }
        }

        if (result.Count == 0)
        {
            return result;
        }

        foreach (var path in Configuration)
        {
            if (files.TryReadFile(path) is { } data)
            {
                result.Add((path.TrimStart('/'), 0x1A4, data));
            }
        }

        while (pending.TryDequeue(out var name))
        {
            if (!seen.Add(name) || name.Contains('/', StringComparison.Ordinal))
            {
                continue;
            }

            if (seen.Count > MaxLibraries)
            {
                throw new StoreException($"the initramfs tools link more than {MaxLibraries} libraries: refusing to copy the image's library tree");
            }

            var (directory, library) = Find(files, name)
                ?? throw new StoreException($"{name}, linked by the initramfs tools, is not in the image's library directories", StoreErrorKind.NotFound);
            var path = (directory + "/" + name).TrimStart('/');
            if (written.Contains(path) || written.Any(w => w.EndsWith("/" + name, StringComparison.Ordinal)))
            {
                continue;
            }

            result.Add((path, 0x1ED, library));
            foreach (var next in ElfNeeded.Read(library))
            {
                pending.Enqueue(next);
            }
        }

        return result;
    }

    private static (string Directory, byte[] Data)? Find(VersionFiles files, string name)
    {
        foreach (var directory in LibraryDirectories)
        {
            if (files.TryReadFile(directory + "/" + name) is { } data)
            {
                return (directory, data);
            }
        }

        return null;
    }
}
