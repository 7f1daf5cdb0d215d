using Sidus.Store.Packs;
using Sidus.Store.Refs;

namespace Sidus.Store;

/// <summary>
/// The store under a Sidus data directory: packs of objects, refs naming image versions, a writer lock, staging.
/// Readers need no lock: packs are immutable and refs change atomically, so a reader always sees whole versions.
/// </summary>
public sealed class Repository : IDisposable
{
    public const string FormatLine = "sidus-store 1";
    private PackSet? _packs;

    private Repository(string home)
    {
        Home = home;
        StoreDirectory = Path.Combine(home, "store");
        PackDirectory = Path.Combine(StoreDirectory, "packs");
        StagingDirectory = Path.Combine(StoreDirectory, "tmp");
        CacheDirectory = Path.Combine(StoreDirectory, "cache");
        Refs = new RefStore(Path.Combine(StoreDirectory, "refs"), StagingDirectory);
    }

    public string Home { get; }
    public string StoreDirectory { get; }
    public string PackDirectory { get; }
    public string StagingDirectory { get; }
    public string CacheDirectory { get; }
    public RefStore Refs { get; }

    /// <summary>zstd level for new objects.</summary>
    public int CompressionLevel { get; init; } = Compression.Zstd.DefaultLevel;

    public PackSet Objects => _packs ??= new PackSet(PackDirectory);

    /// <summary>
    /// What opening changed on the data directory's access (<see cref="HomeAccess.Secure"/>: an existing home open to
    /// others is closed), for the caller to say; null when nothing changed.
    /// </summary>
    public string? AccessChange { get; private init; }

    /// <summary>
    /// Opens the store under HOME, creating an empty one if there is none yet. HOME is made root's alone (or its
    /// group's) before anything is written in it.
    /// </summary>
    public static Repository Open(string home)
    {
        var accessChange = HomeAccess.Secure(home);
        var store = Path.Combine(home, "store");
        var format = Path.Combine(store, "FORMAT");
        if (File.Exists(format))
        {
            var line = File.ReadAllText(format).Trim();
            if (line != FormatLine)
            {
                throw new StoreException(
                    $"the store in {store} has format '{line}', this sidus reads '{FormatLine}': use a matching sidus version",
                    StoreErrorKind.Failure);
            }
        }
        else
        {
            foreach (var dir in new[] { "packs", "tmp", "refs/images", "refs/tags", "cache" })
            {
                Directory.CreateDirectory(Path.Combine(store, dir));
            }

            AtomicFile.WriteText(format, FormatLine + "\n");
        }

        foreach (var dir in new[] { "packs", "tmp", "cache" })
        {
            Directory.CreateDirectory(Path.Combine(store, dir));
        }

        return new Repository(home) { AccessChange = accessChange };
    }

    /// <summary>Takes the writer lock and clears staging leftovers of writers that died.</summary>
    public StoreLock LockForWriting(string operation, TimeSpan wait, Action<string>? onWaiting = null)
    {
        var storeLock = StoreLock.Acquire(Path.Combine(StoreDirectory, "lock"), operation, wait, onWaiting);
        foreach (var leftover in Directory.EnumerateFiles(StagingDirectory))
        {
            File.Delete(leftover);
        }

        // Directories are staged by readers too (an erofs export): only those of dead processes are leftovers.
        foreach (var leftover in Directory.EnumerateDirectories(StagingDirectory))
        {
            if (StagingOwner(leftover) is { } pid && !Directory.Exists($"/proc/{pid}"))
            {
                using var staging = Linux.DirectoryHandle.Open(StagingDirectory);
                staging.RemoveTree(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(leftover)));
            }
        }

        ReloadObjects();
        return storeLock;
    }

    /// <summary>A name for a staging directory that says which process owns it: PREFIX-PID-RANDOM.</summary>
    public string NewStagingDirectoryPath(string prefix) =>
        Path.Combine(StagingDirectory, $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}");

    private static int? StagingOwner(string path)
    {
        var parts = Path.GetFileName(path).Split('-');
        return parts.Length == 3 && int.TryParse(parts[1], out var pid) ? pid : null;
    }

    /// <summary>Sees packs written since this repository was opened.</summary>
    public void ReloadObjects()
    {
        // A pack is never rewritten (its name is its index's hash): the same names are the same packs, whose indexes
        // need not be read again (a capture opens the store's set while ssh logs in, then takes the lock).
        if (_packs is not null && _packs.PackNames.SequenceEqual(PackSet.NamesIn(PackDirectory)))
        {
            return;
        }

        _packs?.Dispose();
        _packs = null;
    }

    public ObjectWriter CreateWriter() => new(Objects, StagingDirectory, CompressionLevel);

    /// <summary>A writer that compresses at LEVEL (a capture trades a little space for keeping up with the network).</summary>
    public ObjectWriter CreateWriter(int level) => new(Objects, StagingDirectory, level);

    public Commit ReadCommit(ObjectId id) => Commit.Decode(Objects.Read(id, ObjectKind.Commit).Span);

    public List<TreeEntry> ReadTree(ObjectId id) => TreeCodec.Decode(Objects.Read(id, ObjectKind.Tree).Span);

    /// <summary>The versions of an image, newest first (those removed one by one are left out).</summary>
    public IEnumerable<(ObjectId Id, Commit Commit)> History(string image)
    {
        var removed = Refs.Removed(image);
        return Chain(image).Where(v => !removed.Contains(v.Id));
    }

    /// <summary>Every commit of an image's history, newest first, removed versions included (their commits link the rest).</summary>
    public IEnumerable<(ObjectId Id, Commit Commit)> Chain(string image)
    {
        var next = Refs.Head(image) ?? throw NotFound(image);
        var seen = new HashSet<ObjectId>();
        while (seen.Add(next))
        {
            var commit = ReadCommit(next);
            yield return (next, commit);
            if (commit.Parent is not { } parent)
            {
                yield break;
            }

            next = parent;
        }
    }

    /// <summary>Whether ID is a version something can still be served from: its commit is here and it was not removed.</summary>
    public bool IsLiveVersion(ObjectId id)
    {
        if (!Objects.TryGetKind(id, out var kind) || kind != ObjectKind.Commit)
        {
            return false;
        }

        var image = ReadCommit(id).Image;
        return Refs.Head(image) is not null && !Refs.Removed(image).Contains(id);
    }

    /// <summary>
    /// Resolves NAME (newest version), NAME@N (version number N), NAME@HEX (id prefix, 4+ digits) or NAME:TAG.
    /// </summary>
    public (ObjectId Id, Commit Commit) Resolve(string spec)
    {
        var (image, version, tag) = ParseSpec(spec);
        if (tag is not null)
        {
            if (Refs.Head(image) is null)
            {
                throw NotFound(image);
            }

            return Refs.Tags(image).TryGetValue(tag, out var tagged)
                ? (tagged, ReadCommit(tagged))
                : throw new StoreException($"image '{image}' has no tag '{tag}' (see 'sidus image show {image}')", StoreErrorKind.NotFound);
        }

        if (version is null)
        {
            var head = Refs.Head(image) ?? throw NotFound(image);
            return (head, ReadCommit(head));
        }

        var byNumber = long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number);
        var matches = History(image)
            .Where(v => byNumber ? v.Commit.Sequence == number : v.Id.StartsWith(version))
            .ToList();
        if (!byNumber && version.Length < 4)
        {
            throw new StoreException($"version id prefix '{version}' is too short: give at least 4 hex digits, or a version number", StoreErrorKind.Usage);
        }

        if (matches.Count == 0 && Chain(image).Any(v => byNumber ? v.Commit.Sequence == number : v.Id.StartsWith(version)))
        {
            throw new StoreException($"version '{version}' of '{image}' was removed (see 'sidus image log {image}' for the versions left)", StoreErrorKind.NotFound);
        }

        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new StoreException($"image '{image}' has no version '{version}' (see 'sidus image log {image}')", StoreErrorKind.NotFound),
            _ => throw new StoreException($"version '{version}' of '{image}' is ambiguous: give more digits", StoreErrorKind.Usage),
        };
    }

    public static (string Image, string? Version, string? Tag) ParseSpec(string spec)
    {
        string image;
        string? version = null, tag = null;
        var at = spec.IndexOf('@', StringComparison.Ordinal);
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (at >= 0)
        {
            image = spec[..at];
            version = spec[(at + 1)..];
        }
        else if (colon >= 0)
        {
            image = spec[..colon];
            tag = spec[(colon + 1)..];
        }
        else
        {
            image = spec;
        }

        RefStore.ValidateName(image, "image");
        if (version is { Length: 0 } || tag is { Length: 0 })
        {
            throw new StoreException($"'{spec}': say which version after '@' or which tag after ':'", StoreErrorKind.Usage);
        }

        if (tag is not null)
        {
            RefStore.ValidateName(tag, "tag");
        }

        return (image, version, tag);
    }

    /// <summary>
    /// Records a new version of IMAGE whose objects WRITER holds: commit object, pack made durable, then the ref.
    /// Must hold the writer lock.
    /// </summary>
    public (ObjectId Id, Commit Commit) CommitVersion(ObjectWriter writer, string image, TreeEntry root, TreeStats stats, string message)
    {
        RefStore.ValidateName(image, "image");
        var parent = Refs.Head(image);
        var sequence = parent is { } p ? ReadCommit(p).Sequence + 1 : 1;
        var commit = new Commit
        {
            Image = image,
            Sequence = sequence,
            Parent = parent,
            Root = root,
            Time = DateTimeOffset.UtcNow,
            Message = message,
            Author = $"{Environment.UserName}@{Environment.MachineName}",
            Files = stats.Files,
            Entries = stats.Entries,
            LogicalBytes = stats.LogicalBytes,
        };
        var data = commit.Encode();
        var id = ObjectId.Hash(data);
        writer.Put(id, ObjectKind.Commit, data);
        writer.Commit();
        Refs.SetHead(image, id);
        ReloadObjects();
        return (id, commit);
    }

    private static StoreException NotFound(string image) =>
        new($"there is no image '{image}' (see 'sidus image list')", StoreErrorKind.NotFound);

    public void Dispose() => _packs?.Dispose();
}

/// <summary>Counts of a tree: what a version summary shows.</summary>
public sealed record TreeStats(long Files, long Entries, long LogicalBytes);
