using Sidus.Agent.Fetch;
using Sidus.Store.Checkout;
using Sidus.Store.Import;
using Sidus.Store.Objects;
using Sidus.Store.Sync;

namespace Sidus.Agent.Update;

/// <summary>
/// Brings a root (an installed node's "/", or any directory) to a version of `sidus serve` with the store's sync
/// engine (<see cref="TreeSync"/>): the manifest, then only the contents the root lacks
/// (<see cref="MissingContentSource"/>), each written beside its target and renamed over it, deletions last; drift
/// since the last sync reported first (and kept with --keep-drift); <see cref="UpdateExcludes"/>, the node's
/// --exclude paths and other filesystems left alone. On success the version file and the state cache under
/// ROOT/var/lib/sidus say what the root holds. An interrupted update leaves every file old or new and no state
/// cache, so the next one checks every file and completes it. Called by `sidus-agent update` and by the agent service.
/// </summary>
internal static class NodeUpdater
{
    /// <summary>
    /// The root's filesystem is flushed in the background after each this many bytes written: the disk works while
    /// the agent decompresses and checks, and the flush before the version file is claimed finds little left. An
    /// install of 390 MiB waited 0.36 s in its final flush without it; an update of 42 MiB 50 ms (bench/RESULTS.md: 16
    /// MiB made both faster than 64, which left an update's flush whole; 8 gained nothing more).
    /// </summary>
    private const long FlushEvery = 16L << 20;

    /// <summary><see cref="NodeUpdateResult.RebootPaths"/> as bytes, made once: a path is compared, never encoded.</summary>
    private static readonly (byte[] Prefix, string Why, bool Kernel)[] RebootPrefixes =
        [.. NodeUpdateResult.RebootPaths.Select(r => (Encoding.UTF8.GetBytes(r.Prefix), r.Why, r.Prefix == "boot/vmlinuz"))];

    public static async Task<NodeUpdateResult> RunAsync(UpdateOptions options, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        var start = Stopwatch.GetTimestamp();
        var root = Path.GetFullPath(options.Root);
        var previous = ReadVersion(root);
        using var pause = CollectionPause.Start();
        try
        {
            return await UpdateAsync(options, root, previous, start, cancellation);
        }
        catch (Exception e) when (e is UpdateFailedException or CorruptContentException or HttpRequestException or IOException or
                                       LinuxException or InvalidDataException or UnauthorizedAccessException or ArgumentException or
                                       TaskCanceledException)
        {
            var problem = e is TaskCanceledException && !cancellation.IsCancellationRequested ? "the server did not answer in time" : e.Message;
            return new NodeUpdateResult { Previous = previous?.Ref, DryRun = options.DryRun, Problem = problem, Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds };
        }
    }

    /// <summary>`sidus-agent drift`: what changed in ROOT since its last sync, nothing changed, no server asked.</summary>
    public static NodeUpdateResult Drift(UpdateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var start = Stopwatch.GetTimestamp();
        var root = Path.GetFullPath(options.Root);
        var previous = ReadVersion(root);
        var drift = new List<DriftItem>();
        try
        {
            var result = TreeSync.Drift(root, Under(root, InstalledNode.StateCacheFile), new CheckoutOptions
            {
                // What an update leaves alone: the defaults, and the last sync's own excludes (the node's override
                // paths, its --exclude paths). The install's are fewer (it writes all but the node's own files).
                Excludes = new SyncExcludes([.. UpdateExcludes.Paths, .. LastExcludes(root) ?? [], .. options.Excludes]),
                StayOnFilesystem = true,
                OnDrift = (kind, path) => Found(drift, options, kind, path),
            });
            return new NodeUpdateResult
            {
                Version = previous?.Id, Ref = previous?.Ref, Previous = previous?.Ref, DryRun = true, DriftKnown = result.DriftKnown,
                Drift = Sorted(drift), Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds,
            };
        }
        catch (Exception e) when (e is IOException or LinuxException or ArgumentException or UnauthorizedAccessException)
        {
            return new NodeUpdateResult { Previous = previous?.Ref, DryRun = true, Problem = e.Message };
        }
    }

    private static async Task<NodeUpdateResult> UpdateAsync(UpdateOptions options, string root, NodeVersion? previous, long start, CancellationToken cancellation)
    {
        if (File.Exists(root))
        {
            throw new UpdateFailedException($"{root} is a file, not a directory");
        }

        var settingsFile = Under(root, InstalledNode.SettingsFile);
        InstalledNode.Settings? settings = null;
        if (File.Exists(settingsFile))
        {
            settings = InstalledNode.Settings.Parse(await File.ReadAllTextAsync(settingsFile, cancellation), out var problem)
                       ?? throw new UpdateFailedException($"{settingsFile}: {problem}");
        }

        var server = (options.Server ?? settings?.Server ?? throw new UpdateFailedException(
            $"no server: give --server URL, or {settingsFile} with a 'server =' line")).TrimEnd('/');
        var tokenFile = options.TokenFile ?? Under(root, InstalledNode.KeyFile);
        if (!File.Exists(tokenFile))
        {
            throw new UpdateFailedException($"no credential: {tokenFile} does not exist (give --token-file F: a node key, or an admin token from 'sidus token create')");
        }

        var token = (await File.ReadAllTextAsync(tokenFile, cancellation)).Trim();
        using var http = AgentMain.NewHttpClient();
        http.Timeout = TimeSpan.FromMinutes(10);
        // Replaces what the client took from this boot's session or the node's key (AgentSession): the token given wins.
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(NodeCredentials.Scheme, token);

        var target = options.To is { } to
            ? (to.Length == NodeVersion.IdLength && to.All(char.IsAsciiHexDigitLower) ? new NodeVersion(to, previous?.Id == to ? previous.Ref : options.ToName ?? "?")
                : throw new UpdateFailedException($"--to '{to}' is not a version id (64 lower-case hex digits; 'sidus image log NAME' lists them)"))
            : await TargetAsync(http, server, options.Mac ?? settings?.Mac ?? throw new UpdateFailedException(
                $"no --to VERSION and no node settings ({settingsFile}) to ask the server which version this node should run"), cancellation);
        // The defaults keep a node's own state; a root that holds no version yet (an empty directory) has none, and
        // gets the whole image but the node's own files. The node's override files are its own too: the update
        // leaves them as the overrides wrote them.
        var overrides = (options.Mac ?? settings?.Mac) is { } mac ? await OverridePathsAsync(http, server, mac, options, cancellation) : [];
        var excludes = new SyncExcludes([.. previous is null ? InstalledNode.AlwaysKept : UpdateExcludes.Paths, .. overrides, .. options.Excludes]);
        Say(options, $"updating {root} to {target.Ref} ({target.Id[..12]}) from {server}" + (previous is null ? "" : $"; it holds {previous.Ref}"));

        // A new version's manifest is asked for at once: it comes while the state cache loads.
        var manifest = previous?.Id == target.Id ? null : ManifestAsync(http, server, target.Id, cancellation);
        var excludesText = string.Join('\n', excludes.Paths.Order(StringComparer.Ordinal)) + "\n";
        var stateFile = Under(root, InstalledNode.StateCacheFile);
        StateCache? lastState;
        try
        {
            lastState = StateCache.Load(stateFile);
        }
        catch when (manifest is not null)
        {
            // The manifest's request is not waited for any more: its failure, if any, is not this one.
            _ = manifest.ContinueWith(t => t.Exception, TaskScheduler.Default);
            throw;
        }

        var drift = new List<DriftItem>();
        // The drift scan needs no manifest: it walks the root while the manifest comes, and the sync takes its
        // findings (each directory listed and each name stat-ed once in all).
        var scanning = lastState is null ? Task.FromResult<DriftScan?>(null) : Task.Run(() => (DriftScan?)DriftScan.Run(root, lastState, new CheckoutOptions
        {
            Excludes = excludes,
            StayOnFilesystem = options.StayOnFilesystem,
            KeepDrift = options.KeepDrift,
            OnDrift = (kind, path) => Found(drift, options, kind, path),
        }), cancellation);
        try
        {
            return await SyncAsync(http, server, options, root, previous, target, manifest, excludes, excludesText, lastState, scanning, drift, start, cancellation);
        }
        finally
        {
            await DisposeAsync(scanning);
        }
    }

    private static async Task<NodeUpdateResult> SyncAsync(HttpClient http, string server, UpdateOptions options, string root, NodeVersion? previous,
        NodeVersion target, Task<(byte[] Manifest, byte[] Hash)>? manifestFetch, SyncExcludes excludes, string excludesText, StateCache? lastState,
        Task<DriftScan?> scanning, List<DriftItem> drift, long start, CancellationToken cancellation)
    {
        if (previous?.Id == target.Id && Settled(root, target, excludesText, await scanning) is { } unchanged)
        {
            Say(options, $"{root} is exactly as the last update to this version left it: nothing to do");
            return new NodeUpdateResult
            {
                Version = target.Id, Ref = previous.Ref, Previous = previous.Ref, DryRun = options.DryRun, Unchanged = unchanged,
                DriftKnown = true, Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds,
            };
        }

        var (manifest, manifestHash) = await (manifestFetch ?? ManifestAsync(http, server, target.Id, cancellation));
        var entries = ManifestReader.Parse(manifest);
        using var content = new MissingContentSource(http, server, target.Id, entries);
        if (!options.DryRun)
        {
            // Asked for first, before the manifest's tree is built: the transfer starts as soon as it can.
            content.Prefetch(LikelyWanted(entries, lastState, excludes));

            // Made before the sync, not by its end: a directory made in /var/lib afterwards would move its mtime,
            // and every next update would find /var/lib changed.
            Directory.CreateDirectory(Under(root, InstalledNode.StateDirectory));
        }

        var tree = new ManifestTree(ObjectId.Parse(target.Id), manifestHash, entries);
        var scan = await scanning;
        var reboot = new SortedSet<string>(StringComparer.Ordinal);
        var kernelChanged = false;
        var refused = new SortedSet<string>(StringComparer.Ordinal);
        var progress = new ProgressLine(options, () => content.BytesReceived);
        var sync = new TreeSync(tree, content, new CheckoutOptions
        {
            DryRun = options.DryRun,
            Excludes = excludes,
            NoDelete = options.NoDelete,
            StayOnFilesystem = options.StayOnFilesystem,
            KeepDrift = options.KeepDrift,
            StateFile = Under(root, InstalledNode.StateCacheFile),
            LastState = lastState,
            Scan = scan,
            FlushEvery = FlushEvery,
            OnChange = (action, path) =>
            {
                if (action != SyncAction.Metadata && RebootReason(path) is var (why, kernel))
                {
                    lock (reboot)
                    {
                        reboot.Add(why);
                        kernelChanged |= kernel;
                    }
                }

                // Called for each of an install's 12,000 paths: nothing allocated unless someone listens.
                if (options.OnChange is { } onChange)
                {
                    onChange(action, "/" + LinuxException.Printable(path));
                }
            },
            Progress = progress,
            OnXattrRefused = name => { lock (refused) { refused.Add(Encoding.UTF8.GetString(name)); } },
        }, cacheDirectory: null);
        var result = await sync.RunAsync(root, cancellation);
        progress.Finish();
        if (refused.Count > 0)
        {
            Say(options, $"extended attributes this filesystem does not take were left out: {string.Join(", ", refused)}");
        }

        string? bootloader = null;
        if (!options.DryRun)
        {
            // The version file claims the tree: the root's filesystem is flushed first (the install flushes its
            // other mounts before it reboots), so that a power cut after the claim cannot leave a node recorded at
            // a version it only half holds. The two files below are durable as they are written.
            using (var rootDirectory = DirectoryHandle.Open(root))
            {
                rootDirectory.SyncFilesystem();
            }

            var versionFile = Under(root, InstalledNode.VersionFile);
            Directory.CreateDirectory(Path.GetDirectoryName(versionFile)!);
            AtomicFile.WriteText(versionFile, target.Format());
            AtomicFile.WriteText(Under(root, InstalledNode.ExcludesFile), excludesText);
            if (kernelChanged)
            {
                bootloader = await RegenerateBootloaderAsync(root, cancellation);
            }
        }

        return new NodeUpdateResult
        {
            Version = target.Id,
            Ref = target.Ref,
            Previous = previous?.Ref,
            DryRun = options.DryRun,
            Created = result.Created,
            Updated = result.Updated,
            Deleted = result.Deleted,
            Unchanged = result.Unchanged,
            BytesReceived = manifest.Length + content.BytesReceived,
            BytesWritten = result.BytesWritten,
            Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds,
            DriftKnown = result.DriftKnown,
            DriftKept = options.KeepDrift && drift.Count > 0,
            Drift = Sorted(drift),
            RebootReasons = [.. reboot],
            Bootloader = bootloader,
        };
    }

    /// <summary>
    /// The paths ROOT holds when it is exactly what the last sync to TARGET left, its excludes still excluded (SCAN,
    /// the drift scan, found nothing changed since): syncing again would do nothing (a version's files never change
    /// on the server). Null when anything differs: then the full sync runs.
    /// </summary>
    private static long? Settled(string root, NodeVersion target, string excludesText, DriftScan? scan)
    {
        // Every path synced now must have been synced then: the last sync's excludes are all still excluded (the
        // install's, only the node's own files, are a part of the defaults).
        var excludesFile = Under(root, InstalledNode.ExcludesFile);
        var now = excludesText.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (scan is null || !File.Exists(excludesFile) || !File.ReadAllText(excludesFile).Split('\n', StringSplitOptions.RemoveEmptyEntries).All(now.Contains))
        {
            return null;
        }

        return scan.Exact && scan.Last.Commit.ToString() == target.Id ? scan.Last.Count : null;
    }

    /// <summary>Disposes the drift scan once it is done; a scan that failed has said so where it was awaited.</summary>
    /// <summary>Why a change of PATH needs a reboot, and whether it is the kernel's; null when it needs none.</summary>
    private static (string Why, bool Kernel)? RebootReason(byte[] path)
    {
        foreach (var (prefix, why, kernel) in RebootPrefixes)
        {
            if (path.AsSpan().StartsWith(prefix))
            {
                return (why, kernel);
            }
        }

        return null;
    }

    private static async Task DisposeAsync(Task<DriftScan?> scanning)
    {
        try
        {
            (await scanning)?.Dispose();
        }
        catch (Exception e) when (e is IOException or LinuxException or UnauthorizedAccessException or OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// The contents the sync will most probably fetch, known before it walks the root: those of the version's files
    /// that the root's state cache (LAST) does not show at their paths (all of them on an empty root), excludes left out.
    /// Only a guess to start the transfer early: the sync's walk decides what is fetched and written.
    /// </summary>
    internal static List<ContentWant> LikelyWanted(IReadOnlyList<ManifestEntry> entries, StateCache? last, SyncExcludes excludes)
    {
        var seen = new HashSet<ObjectId>();
        var likely = new List<ContentWant>();
        foreach (var entry in entries.Where(e => e.Content is not null && e.DataLength > 0 && !excludes.Contains(e.Path)))
        {
            var id = ObjectId.Read(entry.Content!);
            if (last?.ContentOf(entry.Path) != id && seen.Add(id))
            {
                likely.Add(new ContentWant(id, entry.DataLength));
            }
        }

        return likely;
    }

    private static void Found(List<DriftItem> drift, UpdateOptions options, DriftKind kind, byte[] path)
    {
        var item = new DriftItem(kind.ToString().ToLowerInvariant(), "/" + LinuxException.Printable(path));
        drift.Add(item);
        options.OnDrift?.Invoke(item);
    }

    private static List<DriftItem> Sorted(List<DriftItem> drift) => [.. drift.OrderBy(d => d.Path, StringComparer.Ordinal)];

    /// <summary>PATH (absolute, of an installed node) under ROOT.</summary>
    private static string Under(string root, string path) => Path.Join(root, path);

    private static NodeVersion? ReadVersion(string root)
    {
        var file = Under(root, InstalledNode.VersionFile);
        return File.Exists(file) ? NodeVersion.Parse(File.ReadAllText(file)) : null;
    }

    private static async Task<NodeVersion> TargetAsync(HttpClient http, string server, string mac, CancellationToken cancellation)
    {
        using var response = await http.GetAsync(server + NodeRoutes.Target(mac), cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        if (!response.IsSuccessStatusCode)
        {
            throw new UpdateFailedException($"the server answered {(int)response.StatusCode} when asked which version {mac} should run: {ServerProblem.Text(text)}");
        }

        return NodeVersion.Parse(text) ?? throw new UpdateFailedException($"the server's target version is not 'VERSIONID IMAGE@SEQ': {text.Trim()}");
    }

    /// <summary>The excludes the last complete sync of ROOT recorded, or null.</summary>
    private static List<string>? LastExcludes(string root)
    {
        var file = Under(root, InstalledNode.ExcludesFile);
        return File.Exists(file) ? [.. File.ReadAllLines(file).Where(l => l.Length > 0)] : null;
    }

    /// <summary>The files and symlinks of the node's override layer (`/etc/motd`...), as excludes; none when it has no layer.</summary>
    private static async Task<List<string>> OverridePathsAsync(HttpClient http, string server, string mac, UpdateOptions options, CancellationToken cancellation)
    {
        using var response = await http.GetAsync(server + NodeRoutes.Overrides(mac), cancellation);
        if (!response.IsSuccessStatusCode)
        {
            Say(options, $"no override layer for {mac} ({(int)response.StatusCode}): no override paths excluded");
            return [];
        }

        return Boot.OverrideExtractor.Paths(await response.Content.ReadAsByteArrayAsync(cancellation));
    }

    private static async Task<(byte[] Manifest, byte[] Hash)> ManifestAsync(HttpClient http, string server, string version, CancellationToken cancellation)
    {
        using var response = await http.GetAsync(server + ContentRoutes.ManifestOf(version), cancellation);
        var body = await response.Content.ReadAsByteArrayAsync(cancellation);
        if (!response.IsSuccessStatusCode)
        {
            throw new UpdateFailedException($"the server answered {(int)response.StatusCode} for the manifest of {version[..12]}: {Encoding.UTF8.GetString(body).Trim()}");
        }

        return (body, Fetch.Sha256.HashFast(body));
    }

    /// <summary>
    /// After a kernel change, GRUB's menu must list the new kernel. On the running root ("/") update-grub (or
    /// grub-mkconfig) regenerates it. Another root is a mounted disk or a plain directory: a chroot there without
    /// its /dev, /proc and /sys would probe the wrong disks, so it is only said what to run.
    /// </summary>
    private static async Task<string?> RegenerateBootloaderAsync(string root, CancellationToken cancellation)
    {
        if (!File.Exists(Path.Join(root, "boot/grub/grub.cfg")))
        {
            return null;
        }

        if (root != "/")
        {
            return $"not regenerated: {root} is not the running root; run 'chroot {root} update-grub' with its /dev, /proc and /sys mounted";
        }

        var (tool, arguments) = File.Exists("/usr/sbin/update-grub") ? ("/usr/sbin/update-grub", "") : ("grub-mkconfig", "-o /boot/grub/grub.cfg");
        using var process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })
                            ?? throw new UpdateFailedException($"cannot start {tool}");
        var errors = process.StandardError.ReadToEndAsync(cancellation);
        await process.StandardOutput.ReadToEndAsync(cancellation);
        await process.WaitForExitAsync(cancellation);
        return process.ExitCode == 0
            ? $"regenerated /boot/grub/grub.cfg ({Path.GetFileName(tool)})"
            : throw new UpdateFailedException($"{tool} failed ({process.ExitCode}) after the kernel changed: {(await errors).Trim()}; the files are updated, run it again by hand");
    }

    private static void Say(UpdateOptions options, string line) => options.Say?.Invoke(line);

    /// <summary>Files and bytes written, bytes received and the rate, at most once a second.</summary>
    private sealed class ProgressLine(UpdateOptions options, Func<long> received) : IProgress<TransferProgress>
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        private long _last;
        private TransferProgress _latest;

        public void Report(TransferProgress value)
        {
            _latest = value;
            var now = Stopwatch.GetTimestamp();
            if (Stopwatch.GetElapsedTime(Interlocked.Read(ref _last), now) >= TimeSpan.FromSeconds(1))
            {
                Interlocked.Exchange(ref _last, now);
                Print();
            }
        }

        public void Finish()
        {
            if (_latest.TotalItems > 0)
            {
                Print();
            }
        }

        private void Print()
        {
            var seconds = Math.Max(Stopwatch.GetElapsedTime(_start).TotalSeconds, 0.001);
            var p = _latest;
            Say(options, $"{p.Items}/{p.TotalItems} files, {ByteUnits.Format(p.Bytes)} written, " +
                         $"{ByteUnits.Format(received())} received, {ByteUnits.Format((long)(received() / seconds))}/s");
        }
    }
}
