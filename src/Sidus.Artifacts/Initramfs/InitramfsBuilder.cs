using System.IO.Compression;
using System.Runtime.InteropServices;
using Sidus.Store.Export;
using Sidus.Artifacts.Versions;

namespace Sidus.Artifacts.Initramfs;

/// <summary>The Sidus kernel and initramfs (node agent as /init) of a version, as files in the boot cache.</summary>
public sealed record AgentBootFiles(string KernelPath, string InitramfsPath, string KernelRelease, int Modules, bool FromCache);

/// <summary>
/// Assembles a node's initramfs from an image version, with no dracut or initramfs-tools run: the node agent as
/// /init, the C libraries it links (copied from the image), the image's kernel modules chosen by
/// <see cref="ModuleSelection"/> with a modules.dep and modules.alias for just those, the image's tools the agent
/// runs (<see cref="InitramfsTools"/>: mke2fs and the libraries it links), and the mount points the agent uses. gzip-compressed newc cpio (every Debian kernel unpacks it). Results are cached under
/// HOME/boot/cache by (version id, agent SHA-256, <see cref="FormatVersion"/>): a version never changes, so a cached
/// pair is never stale, and a new agent or builder gives new names (<see cref="InitramfsCache"/> names them and prunes
/// the ones that can no longer be served).
/// </summary>
public sealed class InitramfsBuilder(Repository repository, ILogger? logger = null)
{
    /// <summary>Bump when the initramfs layout or <see cref="ModuleSelection"/> changes, so cached files of older
    /// builders are not reused (3: hardware RNG drivers, dm-verity).</summary>
    public const int FormatVersion = 3;

    public string CacheDirectory => InitramfsCache.DirectoryFor(repository.Home);

    /// <summary>The libraries a NativeAOT agent needs at run time (checked with ldd): loader, libc, libm.</summary>
    public static IReadOnlyList<string> AgentLibraries => RuntimeInformation.ProcessArchitecture == Architecture.Arm64
        ? ["/lib/ld-linux-aarch64.so.1", "/lib/aarch64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libm.so.6"]
        : ["/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6"];

    private static readonly string[] Directories = ["dev", "proc", "sys", "run", "tmp", "newroot", "lib", "lib64"];

    /// <summary>Returns the cached kernel and initramfs of VERSION for AGENT, building them when missing.</summary>
    public AgentBootFiles GetOrBuild(ObjectId version, string agentPath, CancellationToken cancellation)
    {
        var agent = File.ReadAllBytes(agentPath);
        var stem = InitramfsCache.Stem(CacheDirectory, version, InitramfsCache.AgentHash(agent));
        if (TryCached(stem) is { } cached)
        {
            return cached;
        }

        var kernelPath = stem + InitramfsCache.KernelExtension;
        var initramfsPath = stem + InitramfsCache.InitramfsExtension;
        var infoPath = stem + InitramfsCache.ReleaseExtension;
        Directory.CreateDirectory(CacheDirectory);
        var files = new VersionFiles(repository, repository.ReadCommit(version));
        var kernel = KernelImage.Find(files);
        var release = kernel.Release
            ?? throw new StoreException($"the kernel {kernel.Path} is not named {KernelImage.Prefix}RELEASE: its modules (/lib/modules/RELEASE) cannot be found", StoreErrorKind.NotFound);
        logger?.LogInformation("building the initramfs of {Version} (kernel {Release})", version.Short, release);
        WriteAtomically(kernelPath, output => output.Write(files.ReadAll(kernel.File)));
        var modules = 0;
        WriteAtomically(initramfsPath, output =>
        {
            using var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true);
            modules = Write(files, release, agent, gzip, cancellation);
        });
        WriteAtomically(infoPath, output => output.Write(Encoding.UTF8.GetBytes($"{release}\n{modules}\n")));
        return new AgentBootFiles(kernelPath, initramfsPath, release, modules, FromCache: false);
    }

    /// <summary>
    /// The files under STEM (<see cref="InitramfsCache.Stem"/>) when all three are in the cache, else null; no build.
    /// </summary>
    public static AgentBootFiles? TryCached(string stem)
    {
        var kernelPath = stem + InitramfsCache.KernelExtension;
        var initramfsPath = stem + InitramfsCache.InitramfsExtension;
        var infoPath = stem + InitramfsCache.ReleaseExtension;
        if (!File.Exists(kernelPath) || !File.Exists(initramfsPath))
        {
            return null;
        }

        string[] info;
        try
        {
            info = File.ReadAllText(infoPath).Split('\n');
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        // A note that does not read as RELEASE and MODULES is treated as missing: the build writes it anew.
        return info.Length >= 2 && int.TryParse(info[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var modules)
            ? new AgentBootFiles(kernelPath, initramfsPath, info[0], modules, FromCache: true)
            : null;
    }

    /// <summary>Writes the uncompressed cpio to OUTPUT; returns how many modules it holds.</summary>
    public static int Write(VersionFiles files, string release, byte[] agent, Stream output, CancellationToken cancellation)
    {
        var cpio = new CpioWriter(output);
        var made = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dir in Directories)
        {
            EnsureDirectory(cpio, made, dir);
        }

        cpio.WriteDevice("dev/console"u8.ToArray(), FileKind.CharDevice, 0x180, 5, 1);
        cpio.WriteFile("init"u8.ToArray(), 0x1ED, agent);
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var library in AgentLibraries)
        {
            var data = files.TryReadFile(library)
                ?? throw new StoreException($"the image has no {library}: the agent needs the image's C library (is it a glibc distribution?)", StoreErrorKind.NotFound);
            WriteFileAt(cpio, made, library.TrimStart('/'), 0x1ED, data);
            written.Add(library.TrimStart('/'));
        }

        foreach (var (path, mode, data) in InitramfsTools.Collect(files, written))
        {
            WriteFileAt(cpio, made, path, mode, data);
            written.Add(path);
        }

        var moduleRoot = "/lib/modules/" + release;
        var dep = files.TryReadFile(moduleRoot + "/modules.dep");
        var alias = files.TryReadFile(moduleRoot + "/modules.alias");
        if (dep is null || alias is null)
        {
            throw new StoreException($"the image has no {moduleRoot}/modules.dep or modules.alias: run depmod {release} in the image", StoreErrorKind.NotFound);
        }

        var index = ModuleIndex.Parse(Encoding.UTF8.GetString(dep), Encoding.UTF8.GetString(alias));
        var selected = ModuleSelection.Select(index);
        var selectedNames = selected.Select(ModuleIndex.NameOf).ToHashSet(StringComparer.Ordinal);
        var depText = new StringBuilder();
        foreach (var path in selected)
        {
            cancellation.ThrowIfCancellationRequested();
            var data = files.TryReadFile(moduleRoot + "/" + path)
                ?? throw new StoreException($"{moduleRoot}/{path} is in modules.dep but not in the image");
            WriteFileAt(cpio, made, ("lib/modules/" + release + "/" + path), 0x1A4, data);
            depText.Append(path).Append(':');
            foreach (var d in index.DependenciesOf(path))
            {
                depText.Append(' ').Append(d);
            }

            depText.Append('\n');
        }

        var aliasText = new StringBuilder();
        foreach (var (pattern, module) in index.Aliases.Where(a => selectedNames.Contains(a.Module)))
        {
            aliasText.Append("alias ").Append(pattern).Append(' ').Append(module).Append('\n');
        }

        WriteFileAt(cpio, made, $"lib/modules/{release}/modules.dep", 0x1A4, Encoding.UTF8.GetBytes(depText.ToString()));
        WriteFileAt(cpio, made, $"lib/modules/{release}/modules.alias", 0x1A4, Encoding.UTF8.GetBytes(aliasText.ToString()));
        cpio.Finish();
        return selected.Count;
    }

    private static void WriteFileAt(CpioWriter cpio, HashSet<string> made, string path, uint permissions, byte[] data)
    {
        var slash = path.LastIndexOf('/');
        if (slash > 0)
        {
            EnsureDirectory(cpio, made, path[..slash]);
        }

        cpio.WriteFile(Encoding.UTF8.GetBytes(path), permissions, data);
    }

    private static void EnsureDirectory(CpioWriter cpio, HashSet<string> made, string path)
    {
        if (made.Contains(path))
        {
            return;
        }

        var slash = path.LastIndexOf('/');
        if (slash > 0)
        {
            EnsureDirectory(cpio, made, path[..slash]);
        }

        cpio.WriteDirectory(Encoding.UTF8.GetBytes(path), 0x1ED);
        made.Add(path);
    }

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var temp = InitramfsCache.TemporaryPath(path);
        try
        {
            using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                write(output);
            }

            AtomicFile.Commit(temp, path);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
