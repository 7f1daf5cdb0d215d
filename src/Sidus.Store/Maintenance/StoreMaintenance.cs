using Sidus.Store.Import;
using Sidus.Store.Packs;

namespace Sidus.Store.Maintenance;

public sealed record StoreStats(int Images, int Versions, long Objects, int Packs, long LogicalBytes, long StoredBytes)
{
    /// <summary>What copies of every version would take, divided by what the store takes.</summary>
    public double DedupRatio => StoredBytes == 0 ? 0 : (double)LogicalBytes / StoredBytes;
}

public sealed record DamagedObject(ObjectId Id, string Problem, IReadOnlyList<string> BrokenVersions);

public sealed record VerifyReport(long ObjectsChecked, long BytesChecked, int VersionsChecked, IReadOnlyList<DamagedObject> Damaged)
{
    public bool Healthy => Damaged.Count == 0;
}

public sealed record GcReport(long ObjectsKept, long ObjectsRemoved, int PacksRemoved, int PacksWritten, long BytesBefore, long BytesAfter);

/// <summary>store stats | verify | gc.</summary>
public sealed class StoreMaintenance(Repository repository)
{
    public StoreStats Stats()
    {
        var reach = new Reachability(repository);
        var versions = reach.AllVersions().ToList();
        long logical = 0;
        foreach (var (_, id) in versions)
        {
            logical += repository.ReadCommit(id).LogicalBytes;
        }

        var packs = Directory.EnumerateFiles(repository.PackDirectory, "pack-*").ToList();
        return new StoreStats(
            repository.Refs.Images().Count,
            versions.Count,
            repository.Objects.Count,
            packs.Count(p => p.EndsWith(".pack", StringComparison.Ordinal)),
            logical,
            packs.Sum(p => new FileInfo(p).Length));
    }

    /// <summary>Re-reads and re-hashes every object, then checks every version has all it needs.</summary>
    public VerifyReport Verify(IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        var packs = repository.Objects;
        var all = packs.All.ToList();
        var problems = new Dictionary<ObjectId, string>();
        long bytes = 0, done = 0;
        foreach (var (id, kind, pack, length) in all.OrderBy(o => o.Pack, StringComparer.Ordinal))
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                if (kind == ObjectKind.ChunkList)
                {
                    foreach (var piece in ContentStore.Read(packs, id))
                    {
                        _ = piece;
                    }
                }
                else
                {
                    packs.Read(id, out _);
                }
            }
            catch (StoreException e)
            {
                problems.TryAdd(id, $"{e.Message} (pack {pack})");
            }

            bytes += length;
            if ((++done & 1023) == 0)
            {
                progress?.Report(new TransferProgress("verifying objects", done, all.Count, bytes, 0));
            }
        }

        var broken = new Dictionary<ObjectId, List<string>>();
        var versionsChecked = 0;
        var reach = new Reachability(repository);
        foreach (var (image, versionId) in reach.AllVersions().ToList())
        {
            versionsChecked++;
            var label = Label(image, versionId);
            // Each version is walked on its own so that every version a bad object breaks is named.
            var walker = new Reachability(repository);
            walker.Mark(versionId, (id, problem) =>
            {
                problems.TryAdd(id, problem);
                (broken.TryGetValue(id, out var list) ? list : broken[id] = []).Add(label);
            });
            foreach (var id in walker.Seen.Where(problems.ContainsKey))
            {
                var list = broken.TryGetValue(id, out var l) ? l : broken[id] = [];
                if (!list.Contains(label))
                {
                    list.Add(label);
                }
            }
        }

        var damaged = problems
            .Select(p => new DamagedObject(p.Key, p.Value, broken.GetValueOrDefault(p.Key) ?? []))
            .OrderBy(d => d.Id)
            .ToList();
        return new VerifyReport(all.Count, bytes, versionsChecked, damaged);
    }

    private string Label(string image, ObjectId id)
    {
        try
        {
            return $"{image}@{repository.ReadCommit(id).Sequence}";
        }
        catch (StoreException)
        {
            return $"{image}@{id.Short}";
        }
    }

    /// <summary>Removes every object no version needs; packs holding some live objects are rewritten first.</summary>
    public GcReport CollectGarbage(TimeSpan lockWait, CancellationToken cancellation)
    {
        using var storeLock = repository.LockForWriting("store gc", lockWait);
        var reach = new Reachability(repository);
        foreach (var (_, id) in reach.AllVersions().ToList())
        {
            reach.Mark(id, (bad, problem) => throw new StoreException(
                $"gc stopped: {problem}. Run 'sidus store verify' and repair or remove the broken versions first; nothing was deleted.",
                StoreErrorKind.Corrupt));
        }

        reach.KeepRemovedLinks();
        var live = reach.Seen;
        var packs = repository.Objects;
        var byPack = packs.All.GroupBy(o => o.Pack).ToList();
        var before = Directory.EnumerateFiles(repository.PackDirectory, "pack-*").Sum(p => new FileInfo(p).Length);
        var toDelete = new List<string>();
        long kept = 0, removed = 0;
        var written = 0;
        using (var writer = new ObjectWriter(packs, repository.StagingDirectory, repository.CompressionLevel, dedupAgainstExisting: false))
        {
            foreach (var pack in byPack)
            {
                cancellation.ThrowIfCancellationRequested();
                var objects = pack.ToList();
                var liveHere = objects.Where(o => live.Contains(o.Id)).ToList();
                kept += liveHere.Count;
                removed += objects.Count - liveHere.Count;
                if (liveHere.Count == objects.Count)
                {
                    continue;
                }

                foreach (var o in liveHere)
                {
                    writer.Put(o.Id, o.Kind, packs.Read(o.Id, out _).Span);
                }

                toDelete.Add(pack.Key);
            }

            if (writer.Commit() is not null)
            {
                written = 1;
            }
        }

        // The rewritten pack is durable before any old one goes: a crash here leaves duplicates, never a loss.
        foreach (var name in toDelete)
        {
            File.Delete(Path.Combine(repository.PackDirectory, name + ".idx"));
            File.Delete(Path.Combine(repository.PackDirectory, name + ".pack"));
        }

        foreach (var orphan in Directory.EnumerateFiles(repository.PackDirectory, "pack-*.pack"))
        {
            if (!File.Exists(Path.ChangeExtension(orphan, ".idx")))
            {
                File.Delete(orphan);
            }
        }

        repository.ReloadObjects();
        var after = Directory.EnumerateFiles(repository.PackDirectory, "pack-*").Sum(p => new FileInfo(p).Length);
        return new GcReport(kept, removed, toDelete.Count, written, before, after);
    }
}
