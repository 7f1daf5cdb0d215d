using Sidus.Nodes.Storage;
using Sidus.Store;

namespace Sidus.Cli.Commands.Node;

/// <summary>
/// What `sidus node update` and `sidus node drift` share: the installed nodes a list of nodes and groups names, the
/// jobs given in waves of --parallel through the inventory (the server answers each node's waiting agent service
/// when it reloads), and each node's answer as it comes.
/// </summary>
internal static class NodeJobsCli
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    /// <summary>One node's outcome: its answer (null: none in time) or why it was not asked.</summary>
    public sealed record Outcome(string Node, NodeUpdateResult? Result, bool Succeeded, string? Message);

    /// <summary>The nodes TARGETS name (nodes by name or MAC, groups by name), or all with ALL; the unknown ones.</summary>
    public static (List<Sidus.Nodes.Node> Nodes, List<string> Unknown) Select(InventorySnapshot snapshot, IEnumerable<string> targets, bool all)
    {
        if (all)
        {
            return ([.. snapshot.Nodes.Where(n => snapshot.Installed(n.Name) is not null)], []);
        }

        var nodes = new List<Sidus.Nodes.Node>();
        var unknown = new List<string>();
        foreach (var key in targets)
        {
            if (InventoryCli.FindNodeByNameOrMac(snapshot, key) is { } node)
            {
                nodes.Add(node);
            }
            else if (snapshot.Groups.FirstOrDefault(g => g.Name == key.ToLowerInvariant()) is { } group)
            {
                nodes.AddRange(snapshot.Nodes.Where(n => n.Groups.Contains(group.Name)));
            }
            else
            {
                unknown.Add(key);
            }
        }

        return ([.. nodes.DistinctBy(n => n.Name)], unknown);
    }

    /// <summary>
    /// Gives each node its job (JOBOF: the job, its time set when it is given, or null with why it is not asked), PARALLEL at a time, and
    /// waits up to LIMIT for each wave's answers; SHOW is called with each outcome as it is known.
    /// </summary>
    public static async Task<List<Outcome>> RunAsync(
        InventoryStore store, IReadOnlyList<Sidus.Nodes.Node> nodes, Func<Sidus.Nodes.Node, (NodeJob? Job, string? Refusal)> jobOf, int parallel, TimeSpan limit,
        Action<Outcome> show, CancellationToken ct)
    {
        var outcomes = new List<Outcome>();
        var jobs = new Dictionary<string, NodeJob>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            var (job, refusal) = jobOf(node);
            if (job is null)
            {
                var outcome = new Outcome(node.Name, null, false, refusal);
                outcomes.Add(outcome);
                show(outcome);
            }
            else
            {
                jobs[node.Name] = job;
            }
        }

        foreach (var wave in jobs.Keys.ToList().Chunk(Math.Max(1, parallel)))
        {
            // Milliseconds only: the job's time is its name on the wire and in the inventory.
            var at = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await store.RequestJobsAsync(wave.ToDictionary(n => n, n => (jobs[n] with { At = at.ToUnixTimeMilliseconds() }).Format()), at, ct);
            var waiting = wave.ToHashSet(StringComparer.Ordinal);
            var deadline = DateTime.UtcNow + limit;
            while (waiting.Count > 0 && DateTime.UtcNow < deadline)
            {
                foreach (var name in waiting.ToList())
                {
                    if (await store.GetJobAnswerAsync(name, ct) is { AnsweredAt: not null } answer)
                    {
                        waiting.Remove(name);
                        var outcome = Read(name, answer);
                        outcomes.Add(outcome);
                        show(outcome);
                    }
                }

                if (waiting.Count > 0)
                {
                    await Task.Delay(Poll, ct);
                }
            }

            foreach (var name in waiting)
            {
                var outcome = new Outcome(name, null, false,
                    $"no answer within {limit.TotalSeconds:0} s: is it up, is `sidus serve` running, does its sidus-agent service run? (sidus node status {name})");
                outcomes.Add(outcome);
                show(outcome);
            }
        }

        return outcomes;
    }

    /// <summary>Gives NODE one JOB (its time set now) and waits up to LIMIT for the answer; null when none came.</summary>
    public static async Task<NodeJobRecord?> AskAsync(InventoryStore store, string node, NodeJob job, TimeSpan limit, CancellationToken ct)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await store.RequestJobsAsync(new Dictionary<string, string> { [node] = (job with { At = at.ToUnixTimeMilliseconds() }).Format() }, at, ct);
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (await store.GetJobAnswerAsync(node, ct) is { AnsweredAt: not null } answer)
            {
                return answer;
            }

            await Task.Delay(Poll, ct);
        }

        return null;
    }

    private static Outcome Read(string name, NodeJobRecord answer)
    {
        try
        {
            var result = NodeUpdateResult.FromJson(answer.Result ?? string.Empty);
            return new Outcome(name, result, answer.Succeeded == true && result.Problem is null, result.Problem);
        }
        catch (System.Text.Json.JsonException)
        {
            return new Outcome(name, null, false, answer.Result);
        }
    }

    /// <summary>The version SPEC (NAME, NAME@N, NAME:TAG) names in the store under HOME, with its IMAGE@SEQ.</summary>
    public static (string Id, string Ref)? Resolve(string home, string spec, out string? problem)
    {
        try
        {
            using var repository = Repository.Open(home);
            var (id, commit) = repository.Resolve(spec);
            problem = null;
            return (id.ToString(), $"{spec.Split('@', ':')[0]}@{commit.Sequence.ToString(CultureInfo.InvariantCulture)}");
        }
        catch (StoreException e)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>One line for a person: what the job did on the node.</summary>
    public static string Line(Outcome o)
    {
        if (o.Result is not { } r)
        {
            return $"{o.Node}: {(o.Succeeded ? "done" : "FAILED: ")}{o.Message}";
        }

        if (!o.Succeeded)
        {
            return $"{o.Node}: FAILED: {r.Problem ?? o.Message}";
        }

        var drift = !r.DriftKnown ? "drift unknown (no record of the last sync)" :
            r.Drift.Count == 0 ? "no drift" : $"drift {r.Drift.Count} {(r.Drift.Count == 1 ? "file" : "files")} ({(r.DriftKept ? "kept" : "overwritten")})";
        var changes = $"{r.Created} created, {r.Updated} updated, {r.Deleted} deleted";
        var moved = $"{ByteUnits.Format(r.BytesReceived)} received";
        var reboot = !r.RebootNeeded ? "no reboot needed" : (r.Rebooting ? "rebooting: " : "reboot needed: ") + string.Join(", ", r.RebootReasons);
        var to = r.Previous is { } previous && previous != r.Version ? $"{Short(previous)} → {r.Ref ?? Short(r.Version)}" : $"at {r.Ref ?? Short(r.Version)}";
        return r.DryRun
            ? $"{o.Node}: dry run, {to}: would have {changes}; {drift}"
            : $"{o.Node}: {to}: {changes}, {moved}, {r.Seconds.ToString("0.0", CultureInfo.InvariantCulture)} s; {drift}; {reboot}";
    }

    private static string Short(string? version) => version is null ? "?" : version.Length > 12 ? version[..12] : version;
}
