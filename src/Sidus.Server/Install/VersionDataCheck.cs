using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using Sidus.Linux;
using Sidus.Store;
using Sidus.Store.Export;
using Sidus.Store.Objects;
using Sidus.Store.Serving;
using Sidus.Store.Trees;

namespace Sidus.Server.Install;

/// <summary>
/// Before a node's disk is touched, every content of the version it is to install is read and hashed: a version
/// damaged in the store is refused with the files it breaks while the node's old system is still on its disk. Found
/// halfway through the write instead, the node would be left with formatted filesystems and nothing to boot. Each
/// content is checked once per opened store (<see cref="ServingCache.VerifyAsync"/>, shared with the contents routes,
/// which then send it without a second check), so the nodes of an install wave after the first, and the first node's
/// own fetches, pay nothing more. A plan request that outlives the node's patience (a version of many GiB on a slow
/// disk: the agent waits 120 s) is asked again, and joins the check still running.
/// </summary>
public static class VersionDataCheck
{
    /// <summary>Damaged files named in the refusal; `sidus store verify` lists them all.</summary>
    private const int Named = 3;

    /// <summary>Versions whose outcome an opened store remembers. Bounded as <see cref="VersionFootprint"/>'s cache is.</summary>
    private const int Kept = 16;

    /// <summary>
    /// What each opened store found of its versions. Per <see cref="ServingCache"/>, not per process: a store reopened
    /// (after `sidus store gc` rewrote its packs, or an import) reads other files, which no earlier check has read.
    /// </summary>
    private static readonly ConditionalWeakTable<ServingCache, Outcomes> ByStore = new();

    /// <summary>One version check at a time in the process: each already reads with every core.</summary>
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    /// <summary>Throws <see cref="InstallPlanException"/> when a content of VERSION (IMAGE_REF to the admin) is damaged or missing.</summary>
    public static async Task EnsureIntactAsync(Repository repository, ServingCache serving, ObjectId version, string imageRef,
        CancellationToken cancellation)
    {
        var check = ByStore.GetValue(serving, _ => new Outcomes()).Get(version, () => CheckAsync(repository, serving, version));
        if (await check.WaitAsync(cancellation) is { } damage)
        {
            throw Damaged(imageRef, damage);
        }
    }

    /// <summary>The refusal for a version whose trees (the list of its files) cannot be read: nothing of it can be installed.</summary>
    public static InstallPlanException TreesUnreadable(string imageRef, IOException error) =>
        Damaged(imageRef, UnreadableTrees(error));

    /// <summary>How many versions SERVING's store checked (walked and read), as opposed to answered from what it found before.</summary>
    internal static int ChecksRun(ServingCache serving) => ByStore.TryGetValue(serving, out var outcomes) ? outcomes.Started : 0;

    private static string UnreadableTrees(IOException error) => $"its list of files cannot be read ({error.Message})";

    private static InstallPlanException Damaged(string imageRef, string damage) => new(
        $"{imageRef} is damaged in the server's store: {damage}. Nothing was touched on the node's disk. " +
        "Run 'sidus store verify' on the server to see every damaged object and the versions it breaks; then install a " +
        "good version (sidus node set NODE --image IMAGE@VERSION) or make the image again (import, capture or build)");

    /// <summary>
    /// Reads every content of VERSION; null when all are whole, else what is damaged. Not cancelled with the request
    /// that started it: the requests waiting for it, and the node asking again, need its answer.
    /// </summary>
    private static async Task<string?> CheckAsync(Repository repository, ServingCache serving, ObjectId version)
    {
        await OneAtATime.WaitAsync();
        try
        {
            var contents = new Dictionary<ObjectId, byte[]>();
            try
            {
                foreach (var (path, entry) in VersionWalker.Walk(repository, repository.ReadCommit(version), CancellationToken.None))
                {
                    if (entry.Kind == FileKind.Regular && !entry.Content.IsZero)
                    {
                        contents.TryAdd(entry.Content, path);
                    }
                }
            }
            catch (IOException e)
            {
                return UnreadableTrees(e);
            }

            var damaged = new ConcurrentBag<(byte[] Path, ObjectId Content, string Reason)>();
            var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
            await Parallel.ForEachAsync(contents, options, async (item, ct) =>
            {
                try
                {
                    await serving.VerifyAsync(item.Key, ct);
                }
                catch (IOException e)
                {
                    // Damaged, missing or unreadable (a disk's read error): the file cannot be installed either way.
                    damaged.Add((item.Value, item.Key, e is MissingObjectException ? "missing from the store" : e.Message));
                }
            });
            if (damaged.IsEmpty)
            {
                return null;
            }

            var first = damaged.OrderBy(d => d.Path, ByteComparer.Instance).ToList();
            var named = string.Join("; ", first.Take(Named).Select(d => $"/{LinuxException.Printable(d.Path)} (content {d.Content.Short}: {d.Reason})"));
            return first.Count > Named ? $"{named} and {first.Count - Named} more" : named;
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    /// <summary>
    /// One opened store's checks by version: running (shared by every request for the version) or done, whole or
    /// damaged. Packs are never modified, so a damaged version stays damaged in this store: a client asking for its
    /// plan in a loop gets the remembered answer, not another read of the version. A check that failed otherwise (the
    /// store closed under it) is forgotten, so the next request checks again.
    /// </summary>
    private sealed class Outcomes
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<ObjectId, Task<string?>> _checks = [];
        private int _started;

        public int Started => Volatile.Read(ref _started);

        public Task<string?> Get(ObjectId version, Func<Task<string?>> check)
        {
            lock (_lock)
            {
                if (_checks.TryGetValue(version, out var known) && !known.IsFaulted && !known.IsCanceled)
                {
                    return known;
                }

                if (_checks.Count >= Kept)
                {
                    // Forgetting costs a second check at worst; a running one goes on for whoever awaits it.
                    _checks.Clear();
                }

                // On the pool: the check runs synchronously up to its first wait, which must not be under the lock.
                var started = Task.Run(check);
                _checks[version] = started;
                _started++;
                return started;
            }
        }
    }
}
