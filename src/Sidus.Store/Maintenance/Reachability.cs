using Sidus.Store.Packs;

namespace Sidus.Store.Maintenance;

/// <summary>Walks what versions need: commits, trees, file contents and their chunks.</summary>
public sealed class Reachability(Repository repository)
{
    private readonly HashSet<ObjectId> _seen = [];

    public IReadOnlySet<ObjectId> Seen => _seen;

    /// <summary>Every version named by a head (with its whole history, but for versions removed one by one) or a tag.</summary>
    public IEnumerable<(string Image, ObjectId Id)> AllVersions()
    {
        var versions = new HashSet<ObjectId>();
        foreach (var image in repository.Refs.Images())
        {
            var removed = repository.Refs.Removed(image);
            var next = repository.Refs.Head(image);
            while (next is { } id && versions.Add(id))
            {
                if (!removed.Contains(id))
                {
                    yield return (image, id);
                }

                next = TryParent(id);
            }

            foreach (var tagged in repository.Refs.Tags(image).Values)
            {
                if (versions.Add(tagged))
                {
                    yield return (image, tagged);
                }
            }
        }
    }

    /// <summary>
    /// Keeps the commits of versions removed one by one, and only them: they link the history of the versions left,
    /// while their trees and files go.
    /// </summary>
    public void KeepRemovedLinks()
    {
        foreach (var image in repository.Refs.Images())
        {
            foreach (var id in repository.Refs.Removed(image))
            {
                _seen.Add(id);
            }
        }
    }

    private ObjectId? TryParent(ObjectId id)
    {
        try
        {
            return repository.ReadCommit(id).Parent;
        }
        catch (StoreException)
        {
            return null;
        }
    }

    /// <summary>Marks everything version ID needs; objects that are missing or damaged are reported to PROBLEM.</summary>
    public void Mark(ObjectId commitId, Action<ObjectId, string> problem)
    {
        if (!_seen.Add(commitId))
        {
            return;
        }

        Commit commit;
        try
        {
            commit = repository.ReadCommit(commitId);
        }
        catch (StoreException e)
        {
            problem(commitId, e.Message);
            return;
        }

        MarkTree(commit.Root.Tree, problem);
    }

    private void MarkTree(ObjectId treeId, Action<ObjectId, string> problem)
    {
        if (!_seen.Add(treeId))
        {
            return;
        }

        List<TreeEntry> entries;
        try
        {
            entries = repository.ReadTree(treeId);
        }
        catch (StoreException e)
        {
            problem(treeId, e.Message);
            return;
        }

        foreach (var entry in entries)
        {
            if (entry.Kind == FileKind.Directory)
            {
                MarkTree(entry.Tree, problem);
            }
            else if (entry.Kind == FileKind.Regular && entry.DataLength > 0 && _seen.Add(entry.Content))
            {
                MarkContent(entry.Content, problem);
            }
        }
    }

    private void MarkContent(ObjectId content, Action<ObjectId, string> problem)
    {
        var packs = repository.Objects;
        if (!packs.TryGetKind(content, out var kind))
        {
            problem(content, $"object {content} is missing");
            return;
        }

        if (kind != ObjectKind.ChunkList)
        {
            return;
        }

        try
        {
            foreach (var (chunk, _) in ContentStore.DecodeChunkList(packs.Read(content, ObjectKind.ChunkList).Span))
            {
                _seen.Add(chunk);
                if (!packs.Contains(chunk))
                {
                    problem(chunk, $"chunk {chunk} of {content} is missing");
                }
            }
        }
        catch (StoreException e)
        {
            problem(content, e.Message);
        }
    }
}
