using System.Collections.Concurrent;
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
/// content is checked once per server process (<see cref="ServingCache.VerifyAsync"/>, shared with the contents
/// routes, which then send it without a second check), so the nodes of an install wave after the first, and the
/// first node's own fetches, pay nothing more. A plan request that outlives the node's patience (a version of many
/// GiB on a slow disk: the agent waits 120 s) is asked again, and what was checked before stays checked.
/// </summary>
public static class VersionDataCheck
{
    /// <summary>Damaged files named in the refusal; `sidus store verify` lists them all.</summary>
    private const int Named = 3;

    /// <summary>Versions found whole in this process: a node that asks for its plan again (or a flood of asks) costs
    /// no second walk of the version. Bounded as <see cref="VersionFootprint"/>'s cache is.</summary>
    private const int Kept = 16;
    private static readonly ConcurrentDictionary<ObjectId, bool> Intact = new();

    /// <summary>Throws <see cref="InstallPlanException"/> when a content of VERSION (IMAGE_REF to the admin) is damaged or missing.</summary>
    public static async Task EnsureIntactAsync(Repository repository, ServingCache serving, ObjectId version, string imageRef,
        CancellationToken cancellation)
    {
        if (Intact.ContainsKey(version))
        {
            return;
        }

        var contents = new Dictionary<ObjectId, byte[]>();
        foreach (var (path, entry) in VersionWalker.Walk(repository, repository.ReadCommit(version), cancellation))
        {
            if (entry.Kind == FileKind.Regular && !entry.Content.IsZero)
            {
                contents.TryAdd(entry.Content, path);
            }
        }

        var damaged = new ConcurrentBag<(byte[] Path, ObjectId Content, string Reason)>();
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellation };
        await Parallel.ForEachAsync(contents, options, async (item, ct) =>
        {
            try
            {
                await serving.VerifyAsync(item.Key, ct);
            }
            catch (StoreException e) when (e is CorruptObjectException or MissingObjectException)
            {
                damaged.Add((item.Value, item.Key, e is MissingObjectException ? "missing from the store" : e.Message));
            }
        });
        if (damaged.IsEmpty)
        {
            if (Intact.Count >= Kept)
            {
                Intact.Clear();
            }

            Intact.TryAdd(version, true);
            return;
        }

        var first = damaged.OrderBy(d => d.Path, ByteComparer.Instance).ToList();
        var named = string.Join("; ", first.Take(Named).Select(d => $"/{LinuxException.Printable(d.Path)} (content {d.Content.Short}: {d.Reason})"));
        var more = first.Count > Named ? $" and {first.Count - Named} more" : string.Empty;
        throw new InstallPlanException(
            $"{imageRef} is damaged in the server's store: {named}{more}. Nothing was touched on the node's disk. " +
            "Run 'sidus store verify' on the server to see every damaged object and the versions it breaks; then install a " +
            "good version (sidus node set NODE --image IMAGE@VERSION) or make the image again (import, capture or build)");
    }
}
