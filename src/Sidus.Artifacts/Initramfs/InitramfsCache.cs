using System.Security.Cryptography;

namespace Sidus.Artifacts.Initramfs;

/// <summary>One file <see cref="InitramfsCache.Prune"/> removed, and why.</summary>
public sealed record PrunedBootFile(string Path, long Bytes, string Reason);

/// <summary>What <see cref="InitramfsCache.Prune"/> did: the files it removed and how many cache files it kept.</summary>
public sealed record BootCachePruneResult(IReadOnlyList<PrunedBootFile> Removed, int Kept)
{
    public long BytesFreed => Removed.Sum(r => r.Bytes);
}

/// <summary>
/// The names of HOME/boot/cache: VERSION-AGENTHASH-vFORMAT followed by <see cref="KernelExtension"/>,
/// <see cref="InitramfsExtension"/> or <see cref="ReleaseExtension"/>, each written to NAME.PID.tmp first and renamed
/// into place. Since the name holds the agent hash and format, a file whose agent or format is not the current one
/// is never served again, and one whose version left the store cannot be asked for: <see cref="Prune"/> removes those.
/// </summary>
public static class InitramfsCache
{
    public const string KernelExtension = ".vmlinuz";
    public const string InitramfsExtension = ".initramfs.gz";
    public const string ReleaseExtension = ".release";
    public const string TemporarySuffix = ".tmp";

    /// <summary>Hex digits of the agent's SHA-256 kept in a name (64 bits: a collision between two agent builds is not a concern).</summary>
    public const int AgentHashDigits = 16;

    private static readonly string[] Extensions = [KernelExtension, InitramfsExtension, ReleaseExtension];

    /// <summary>The boot cache of the Sidus home HOME.</summary>
    public static string DirectoryFor(string home) => Path.Combine(home, "boot", "cache");

    /// <summary>The short agent hash that names cache files built with AGENT (the binary's bytes).</summary>
    public static string AgentHash(ReadOnlySpan<byte> agent) => Convert.ToHexStringLower(SHA256.HashData(agent))[..AgentHashDigits];

    /// <summary>Path of the cache files of VERSION built with AGENTHASH by this builder, without extension.</summary>
    public static string Stem(string directory, ObjectId version, string agentHash) =>
        Path.Combine(directory, $"{version}-{agentHash}-v{InitramfsBuilder.FormatVersion.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Where a file is written before it is renamed to PATH (per process, so two processes never share one).</summary>
    public static string TemporaryPath(string path) => $"{path}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}{TemporarySuffix}";

    /// <summary>
    /// Removes from DIRECTORY the cache files that can never be served again: built by an older builder
    /// (format below <see cref="InitramfsBuilder.FormatVersion"/>; a newer format is another Sidus's and is kept), built
    /// with an agent other than CURRENTAGENTHASH (null: the caller does not know which agent is served, keep every
    /// agent's), or of a version for which VERSIONEXISTS says false. Temporary files are removed only when the process
    /// named in them is gone (a build in progress elsewhere is never touched); the caller makes sure its own process
    /// builds nothing meanwhile. A file being downloaded stays readable after its removal (the server reads from an
    /// open descriptor), so nothing has to wait for downloads. Files whose names are not the cache's are left alone.
    /// </summary>
    public static BootCachePruneResult Prune(string directory, Func<ObjectId, bool> versionExists, string? currentAgentHash)
    {
        var removed = new List<PrunedBootFile>();
        var kept = 0;
        if (!Directory.Exists(directory))
        {
            return new BootCachePruneResult(removed, kept);
        }

        var known = new Dictionary<ObjectId, bool>();
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(path);
            string? reason;
            if (name.EndsWith(TemporarySuffix, StringComparison.Ordinal))
            {
                reason = TryParseTemporary(name, out var pid) && pid != Environment.ProcessId && !ProcessRuns(pid)
                    ? $"left by a build that did not finish (process {pid.ToString(CultureInfo.InvariantCulture)} is gone)"
                    : null;
            }
            else if (TryParse(name, out var version, out var agentHash, out var format))
            {
                reason = format < InitramfsBuilder.FormatVersion
                    ? $"built by an older Sidus (format v{format.ToString(CultureInfo.InvariantCulture)}, now v{InitramfsBuilder.FormatVersion.ToString(CultureInfo.InvariantCulture)})"
                    : currentAgentHash is not null && agentHash != currentAgentHash
                        ? $"built for another node agent ({agentHash}, now {currentAgentHash})"
                        : !Exists(version)
                            ? $"version {version.Short} is no longer in the store"
                            : null;
            }
            else
            {
                continue;
            }

            if (reason is null)
            {
                kept++;
                continue;
            }

            long bytes;
            try
            {
                bytes = new FileInfo(path).Length;
                File.Delete(path);
            }
            catch (FileNotFoundException)
            {
                // Renamed into place or removed by its builder since it was listed.
                continue;
            }

            removed.Add(new PrunedBootFile(path, bytes, reason));
        }

        return new BootCachePruneResult(removed, kept);

        bool Exists(ObjectId version)
        {
            if (!known.TryGetValue(version, out var exists))
            {
                exists = versionExists(version);
                known[version] = exists;
            }

            return exists;
        }
    }

    /// <summary>Reads VERSION-AGENTHASH-vFORMAT.EXTENSION.</summary>
    public static bool TryParse(string fileName, out ObjectId version, out string agentHash, out int format)
    {
        version = default;
        agentHash = string.Empty;
        format = 0;
        var extension = Array.Find(Extensions, e => fileName.EndsWith(e, StringComparison.Ordinal));
        if (extension is null)
        {
            return false;
        }

        var parts = fileName[..^extension.Length].Split('-');
        if (parts.Length != 3 || !ObjectId.TryParse(parts[0], out version) || version.ToString() != parts[0]
            || parts[1].Length != AgentHashDigits || !parts[1].All(char.IsAsciiHexDigitLower)
            || parts[2].Length < 2 || parts[2][0] != 'v'
            || !int.TryParse(parts[2].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out format))
        {
            return false;
        }

        agentHash = parts[1];
        return true;
    }

    /// <summary>Reads the writer's process id from NAME.PID.tmp, where NAME is a cache file's name.</summary>
    private static bool TryParseTemporary(string fileName, out int pid)
    {
        pid = 0;
        var withoutSuffix = fileName[..^TemporarySuffix.Length];
        var dot = withoutSuffix.LastIndexOf('.');
        return dot > 0
            && TryParse(withoutSuffix[..dot], out _, out _, out _)
            && int.TryParse(withoutSuffix.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out pid);
    }

    private static bool ProcessRuns(int pid) => Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
}
