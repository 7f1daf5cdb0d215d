namespace Sidus.Store.Sync;

/// <summary>The tree a sync lays out: a version in the local store (<see cref="StoreSource"/>) or a fetched manifest (<see cref="ManifestTree"/>).</summary>
public interface ITreeSource
{
    /// <summary>What is laid out; the state cache records it.</summary>
    ObjectId Version { get; }

    /// <summary>The root directory's own entry (its name is empty).</summary>
    TreeEntry Root { get; }

    /// <summary>The entries of the directory whose <see cref="TreeEntry.Tree"/> is TREE, in the order to lay them out.</summary>
    IReadOnlyList<TreeEntry> ReadTree(ObjectId tree);
}
