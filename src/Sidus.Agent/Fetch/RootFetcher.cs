using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Sidus.Linux;

namespace Sidus.Agent.Fetch;

/// <summary>
/// Lays a version out under a directory (the tmpfs of ram mode) from the server: the manifest first, then the
/// files' data in batches (POST /api/content/batch), several batches at once, every file checked against its
/// SHA-256 before it is written. Network failures are retried with backoff for as long as it takes; data that does
/// not match its hash is refused, said on the console and reported, and asked for again later (the server may be
/// repaired), so the node never boots from bad data and never waits silently.
/// </summary>
internal sealed class RootFetcher(HttpClient http, string server, EventReporter reporter)
{
    private const int FrameHeaderLength = Sha256.HashLength + sizeof(long);
    private static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(30);
    private int _requests;
    private long _hashTicks;
    private long _writeTicks;

    public async Task<FetchStats> FetchAsync(string version, string? manifestHash, string root)
    {
        var clock = Stopwatch.StartNew();
        var text = await FetchManifestAsync(version, manifestHash);
        var entries = ManifestParser.Parse(text);
        if (entries.Count == 0 || entries[0] is not { Kind: 'd', Path: [(byte)'.'] })
        {
            throw new InvalidDataException("the manifest does not start with the root directory");
        }

        AgentConsole.Say($"manifest: {entries.Count} entries; laying out directories, links and devices");
        var files = CreateStructure(entries, root);
        var byContent = FetchPlan.ByContent(files);
        var total = byContent.Values.Sum(g => FetchPlan.DataLength(g[0]));
        AgentConsole.Say($"fetching {files.Count} files ({byContent.Count} distinct contents, {total / 1048576.0:F1} MiB)");
        await reporter.ReportAsync("root", $"fetching {files.Count} files, {total / 1048576.0:F1} MiB");
        foreach (var empty in files.Where(f => f.Content is null || f.Size == 0 || !byContent.ContainsKey(Convert.ToHexStringLower(f.Content!))))
        {
            WriteFile(root, empty, []);
        }

        var batches = FetchPlan.MakeBatches(byContent);
        using var gate = new SemaphoreSlim(FetchPlan.ParallelBatches);
        long done = 0;
        var tasks = batches.Select(async batch =>
        {
            await gate.WaitAsync();
            try
            {
                var bytes = await FetchBatchWithRetryAsync(batch, byContent, root);
                var now = Interlocked.Add(ref done, bytes);
                if ((now * 10 / Math.Max(total, 1)) != ((now - bytes) * 10 / Math.Max(total, 1)))
                {
                    AgentConsole.Say($"fetched {now / 1048576.0:F1} of {total / 1048576.0:F1} MiB");
                }
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        await Task.WhenAll(tasks);
        var dataTime = clock.Elapsed;
        FinishMetadata(entries, root);
        return new FetchStats(entries.Count, files.Count, done, _requests, clock.Elapsed,
            dataTime, Stopwatch.GetElapsedTime(0, _hashTicks), Stopwatch.GetElapsedTime(0, _writeTicks));
    }

    private async Task<string> FetchManifestAsync(string version, string? pinned)
    {
        var backoff = new Backoff();
        while (true)
        {
            string? problem;
            try
            {
                Interlocked.Increment(ref _requests);
                using var response = await http.GetAsync($"{server}/api/versions/{version}/manifest");
                var body = await response.Content.ReadAsByteArrayAsync();
                if (response.IsSuccessStatusCode)
                {
                    var hash = Convert.ToHexStringLower(Sha256.Hash(body));
                    if (pinned is null || string.Equals(hash, pinned, StringComparison.OrdinalIgnoreCase))
                    {
                        return Encoding.UTF8.GetString(body);
                    }

                    problem = $"REFUSED: the manifest of {version} hashes to {hash}, not the {pinned} the boot command line pins";
                }
                else
                {
                    problem = $"the server answered {(int)response.StatusCode} for the manifest of {version}: {Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 200)))}";
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                problem = $"cannot fetch the manifest from {server}: {e.Message}";
            }

            await FailAndWaitAsync(problem, backoff);
        }
    }

    private async Task FailAndWaitAsync(string problem, Backoff backoff)
    {
        var wait = backoff.Next();
        AgentConsole.Fail($"{problem}; retrying in {wait.TotalSeconds:F0} s (attempt {backoff.Attempt})");
        await reporter.ReportAsync("failed", problem);
        await Task.Delay(wait);
    }

    private async Task<long> FetchBatchWithRetryAsync(List<string> ids, Dictionary<string, List<ManifestEntry>> byContent, string root)
    {
        var backoff = new Backoff();
        var left = ids;
        long bytes = 0;
        while (true)
        {
            string problem;
            try
            {
                bytes += await FetchBatchAsync(left, byContent, root, written => left = left.Where(id => !written.Contains(id)).ToList());
                return bytes;
            }
            catch (CorruptContentException e)
            {
                problem = "REFUSED: " + e.Message;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or InvalidDataException)
            {
                problem = $"fetching {left.Count} files from {server}: {e.Message}";
            }

            await FailAndWaitAsync(problem, backoff);
        }
    }

    /// <summary>One POST; files verified and written as their frames arrive. ONWRITTEN learns what is done on failure.</summary>
    private async Task<long> FetchBatchAsync(List<string> ids, Dictionary<string, List<ManifestEntry>> byContent, string root, Action<HashSet<string>> onWritten)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        long bytes = 0;
        try
        {
            Interlocked.Increment(ref _requests);
            using var content = new StringContent(string.Join('\n', ids) + "\n", Encoding.ASCII, "text/plain");
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{server}/api/content/batch") { Content = content };
            // Headers only: the body is read as it comes, so a slow but live link (300 nodes on one gigabit port)
            // is not cut by a whole-request timeout; a stalled one is, by the idle limit on every read.
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"the server answered {(int)response.StatusCode} to a batch of {ids.Count} files");
            }

            await using var stream = await response.Content.ReadAsStreamAsync();
            using var idle = new CancellationTokenSource();
            async Task ReadAsync(Memory<byte> buffer)
            {
                idle.CancelAfter(IdleLimit);
                try
                {
                    await stream.ReadExactlyAsync(buffer, idle.Token);
                }
                catch (OperationCanceledException) when (idle.IsCancellationRequested)
                {
                    throw new IOException($"the server sent nothing for {IdleLimit.TotalSeconds:F0} s");
                }
            }

            var header = new byte[FrameHeaderLength];
            foreach (var id in ids)
            {
                await ReadAsync(header);
                var frameId = Convert.ToHexStringLower(header.AsSpan(0, Sha256.HashLength));
                var length = BinaryPrimitives.ReadInt64BigEndian(header.AsSpan(Sha256.HashLength));
                var file = byContent[id][0];
                var expected = FetchPlan.DataLength(file);
                if (frameId != id || length != expected)
                {
                    throw new InvalidDataException($"the batch answer is out of step: expected {id} ({expected} bytes), got {frameId} ({length} bytes)");
                }

                var data = new byte[length];
                await ReadAsync(data);
                var hashStart = Stopwatch.GetTimestamp();
                var actual = Convert.ToHexStringLower(Sha256.Hash(data));
                Interlocked.Add(ref _hashTicks, Stopwatch.GetTimestamp() - hashStart);
                if (actual != id)
                {
                    throw new CorruptContentException(
                        $"the data of {LinuxException.Printable(file.Path)} is corrupt on the server: content {id} hashes to {actual}; this node will not boot from it");
                }

                var writeStart = Stopwatch.GetTimestamp();
                foreach (var target in byContent[id])
                {
                    WriteFile(root, target, data);
                }

                Interlocked.Add(ref _writeTicks, Stopwatch.GetTimestamp() - writeStart);

                written.Add(id);
                bytes += length;
            }

            return bytes;
        }
        finally
        {
            onWritten(written);
        }
    }

    /// <summary>Directories, symlinks, devices and fifos, in manifest order; returns the regular files to fill.</summary>
    private static List<ManifestEntry> CreateStructure(List<ManifestEntry> entries, string root)
    {
        var directories = new HashSet<string>(StringComparer.Ordinal) { "." };
        var files = new List<ManifestEntry>();
        var firstOfGroup = new Dictionary<uint, ManifestEntry>();
        foreach (var entry in entries.Skip(1))
        {
            var (parent, name) = Split(entry.Path);
            // Only under directories this manifest made: a hostile manifest cannot write through a symlink.
            if (!directories.Contains(Key(parent)) || name.Length == 0 || name is [(byte)'.'] or [(byte)'.', (byte)'.'])
            {
                throw new InvalidDataException($"manifest entry {LinuxException.Printable(entry.Path)} is not inside a directory the manifest made");
            }

            using var dir = OpenDirectory(root, parent);
            switch (entry.Kind)
            {
                case 'd':
                    dir.CreateDirectory(name, 0x1C0);
                    directories.Add(Key(entry.Path));
                    break;
                case 'l':
                    dir.CreateSymlink(name, entry.Target ?? throw new InvalidDataException("symlink without a target"));
                    break;
                case 'c' or 'b' or 'p':
                    var kind = entry.Kind switch { 'c' => FileKind.CharDevice, 'b' => FileKind.BlockDevice, _ => FileKind.Fifo };
                    dir.CreateNode(name, kind, 0x180, entry.Major, entry.Minor);
                    break;
                case 'f' when entry.LinkGroup != 0 && firstOfGroup.ContainsKey(entry.LinkGroup):
                    break;
                case 'f':
                    if (entry.LinkGroup != 0)
                    {
                        firstOfGroup[entry.LinkGroup] = entry;
                    }

                    files.Add(entry);
                    break;
                default:
                    throw new InvalidDataException($"manifest entry {LinuxException.Printable(entry.Path)} has unknown kind '{entry.Kind}'");
            }
        }

        return files;
    }

    private static void WriteFile(string root, ManifestEntry file, byte[] data)
    {
        var (parent, name) = Split(file.Path);
        using var dir = OpenDirectory(root, parent);
        using var handle = dir.OpenFile(name, OpenFlags.CreateExclusiveReadWrite, 0x180);
        if (file.Target is null)
        {
            RandomAccess.Write(handle, data, 0);
        }
        else
        {
            var at = 0;
            foreach (var (offset, length) in FetchPlan.Extents(file))
            {
                RandomAccess.Write(handle, data.AsSpan(at, (int)length), offset);
                at += (int)length;
            }

            FileOps.Truncate(handle, file.Size);
        }
    }

    /// <summary>Hard links, then owners, permissions (after chown, which clears setuid) and times, deepest first.</summary>
    private static void FinishMetadata(List<ManifestEntry> entries, string root)
    {
        var firstOfGroup = new Dictionary<uint, ManifestEntry>();
        foreach (var entry in entries.Where(e => e.Kind == 'f' && e.LinkGroup != 0))
        {
            if (firstOfGroup.TryGetValue(entry.LinkGroup, out var first))
            {
                var (parent, name) = Split(entry.Path);
                var (firstParent, firstName) = Split(first.Path);
                using var dir = OpenDirectory(root, parent);
                using var from = OpenDirectory(root, firstParent);
                dir.CreateHardLink(name, from, firstName);
            }
            else
            {
                firstOfGroup[entry.LinkGroup] = entry;
            }
        }

        var unsupported = new HashSet<string>(StringComparer.Ordinal);
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var entry = entries[i];
            var (parent, name) = i == 0 ? ([], []) : Split(entry.Path);
            using var dir = i == 0 ? DirectoryHandle.Open(root) : OpenDirectory(root, parent);
            dir.SetOwner(name, entry.Uid, entry.Gid);
            if (entry.Kind != 'l')
            {
                dir.SetPermissions(name, entry.Mode);
            }

            // After chown and chmod: chown clears security.capability.
            foreach (var (attribute, value) in entry.Xattrs)
            {
                try
                {
                    dir.SetXattr(name, attribute, value);
                }
                catch (LinuxException e) when (e.Errno is Errno.EOPNOTSUPP or Errno.EPERM)
                {
                    // tmpfs before Linux 6.6 has no user.* attributes: the node boots without them, and says so.
                    unsupported.Add(Encoding.UTF8.GetString(attribute));
                }
            }

            dir.SetModificationTime(name, entry.MtimeSeconds, entry.MtimeNanoseconds);
        }

        if (unsupported.Count > 0)
        {
            AgentConsole.Say($"extended attributes this root filesystem does not take were left out: {string.Join(", ", unsupported.Order(StringComparer.Ordinal))}");
        }
    }

    private static DirectoryHandle OpenDirectory(string root, byte[] parent) =>
        parent.Length == 0 ? DirectoryHandle.Open(root) : DirectoryHandle.Open([.. Encoding.UTF8.GetBytes(root), (byte)'/', .. parent]);

    private static (byte[] Parent, byte[] Name) Split(byte[] path)
    {
        var slash = Array.LastIndexOf(path, (byte)'/');
        return slash < 0 ? ([], path) : (path[..slash], path[(slash + 1)..]);
    }

    private static string Key(byte[] path) => path.Length == 0 ? "." : Convert.ToHexString(path);
}
