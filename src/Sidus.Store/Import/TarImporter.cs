using Sidus.Store.Packs;

namespace Sidus.Store.Import;

/// <summary>
/// Builds a version from tar archives: members become entries of a <see cref="MemoryTree"/>, file data streams
/// into the content store one member at a time (a big file is never held whole). Nothing is written outside the
/// store: symlinks are only recorded, and a member whose path leaves the root ("..") or passes through a non-directory
/// is refused. Used for plain tarballs and, with whiteouts on, for OCI layers applied one over another.
/// </summary>
public sealed class TarImporter
{
    private const uint ImplicitDirectoryPermissions = 0x1ED; // 0755
    private const int ProgressEvery = 256;
    private const int ReadBufferLength = 1 << 20;

    /// <summary>Members up to this size are read into memory and stored by worker tasks while reading goes on.</summary>
    private const int ParallelMemberLimit = 8 << 20;

    private static ReadOnlySpan<byte> WhiteoutPrefix => ".wh."u8;
    private static ReadOnlySpan<byte> OpaqueWhiteout => ".wh..wh..opq"u8;

    private readonly ObjectWriter _writer;
    private readonly IProgress<TransferProgress>? _progress;
    private readonly SemaphoreSlim _workers = new(Environment.ProcessorCount * 2);
    private readonly List<Task> _pending = [];
    private HashSet<MemoryNode> _layerNodes = new(ReferenceEqualityComparer.Instance);
    private long _members;

    public TarImporter(ObjectWriter writer, IProgress<TransferProgress>? progress = null)
    {
        _writer = writer;
        _progress = progress;
        Tree = new MemoryTree(ImplicitDirectory([]));
    }

    /// <summary>The tree built so far (the root defaults to a 0755 root:root directory at time 0).</summary>
    public MemoryTree Tree { get; }

    /// <summary>Members read so far, over every archive applied.</summary>
    public long Members => _members;

    /// <summary>Reads a whole tar archive (compressed or not, told by its first bytes) into the tree.</summary>
    /// <param name="archive">The raw archive; it is read to its end-of-archive marker, not disposed.</param>
    /// <param name="label">How errors name the archive (its path, or "standard input").</param>
    /// <param name="totalBytes">The raw archive's length for progress, 0 when unknown.</param>
    public MemoryTree Import(Stream archive, string label, long totalBytes, CancellationToken cancellation)
    {
        var counting = new CountingStream(archive);
        using var plain = new BufferedStream(Decompression.Open(counting, label, out _), ReadBufferLength);
        Apply(new TarReader(plain), whiteouts: false, () => counting.Count, totalBytes, cancellation);
        return Tree;
    }

    /// <summary>
    /// Applies one OCI/Docker layer (an uncompressed tar stream) over the tree: `.wh.NAME` removes NAME from the
    /// layers below, `.wh..wh..opq` empties its directory of what the layers below put there.
    /// </summary>
    public void ApplyLayer(Stream layerTar, CancellationToken cancellation)
    {
        _layerNodes = new HashSet<MemoryNode>(ReferenceEqualityComparer.Instance);
        var reader = new TarReader(layerTar);
        Apply(reader, whiteouts: true, () => reader.Position, 0, cancellation);
    }

    private void Apply(TarReader reader, bool whiteouts, Func<long> bytesRead, long totalBytes, CancellationToken cancellation)
    {
        try
        {
            ReadMembers(reader, whiteouts, bytesRead, totalBytes, cancellation);
        }
        finally
        {
            // Every stored member must be finished (or failed) before the tree is used or the writer goes away.
            try
            {
                Task.WaitAll(_pending, CancellationToken.None);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }
            finally
            {
                _pending.Clear();
            }
        }
    }

    private void ReadMembers(TarReader reader, bool whiteouts, Func<long> bytesRead, long totalBytes, CancellationToken cancellation)
    {
        while (reader.Next() is { } member)
        {
            cancellation.ThrowIfCancellationRequested();
            var path = NormalisePath(member.Path, member.Path);
            if (whiteouts && path.Count > 0 && path[^1].AsSpan().StartsWith(WhiteoutPrefix))
            {
                ApplyWhiteout(path, member.Path);
            }
            else
            {
                AddMember(member, path);
            }

            if ((++_members % ProgressEvery) == 0)
            {
                _progress?.Report(new TransferProgress("reading archive", _members, 0, bytesRead(), totalBytes));
            }
        }

        _progress?.Report(new TransferProgress("reading archive", _members, _members, bytesRead(), Math.Max(totalBytes, bytesRead())));
    }

    private void AddMember(TarMember member, List<byte[]> path)
    {
        if (path.Count == 0)
        {
            if (member.Kind != TarMemberKind.Directory)
            {
                throw new StoreException($"member '{LinuxException.Printable(member.Path)}' names the root of the tree but is not a directory");
            }

            Tree.Root.Entry = EntryFor(member, []);
            return;
        }

        var parent = ParentOf(path, member.Path);
        var name = path[^1];
        TreeCodec.ValidateName(name);
        MemoryNode node;
        if (member.Kind == TarMemberKind.HardLink)
        {
            node = LinkTo(member);
        }
        else
        {
            var entry = EntryFor(member, name);
            if (member.Kind == TarMemberKind.Regular)
            {
                StoreData(member, entry);
            }

            if (entry.Kind == FileKind.Directory && parent.Children!.TryGetValue(name, out var existing) && existing.Children is not null)
            {
                // A directory met again (or after its children, as implicit parent): new metadata, same children.
                existing.Entry = entry;
                _layerNodes.Add(existing);
                return;
            }

            node = new MemoryNode(entry);
        }

        parent.Children![name] = node;
        _layerNodes.Add(node);
    }

    private MemoryNode LinkTo(TarMember member)
    {
        var targetPath = NormalisePath(member.LinkTarget!, member.Path);
        var target = Tree.Find(targetPath);
        if (target is null || targetPath.Count == 0)
        {
            throw new StoreException(
                $"member '{LinuxException.Printable(member.Path)}' is a hard link to '{LinuxException.Printable(member.LinkTarget)}', which is not earlier in the archive");
        }

        if (target.Children is not null)
        {
            throw new StoreException(
                $"member '{LinuxException.Printable(member.Path)}' is a hard link to the directory '{LinuxException.Printable(member.LinkTarget)}': directories cannot be hard linked");
        }

        target.Link ??= new LinkKey();
        // The same entry object: its content id may still be being computed by a worker. MemoryTree takes names
        // from the directory, not from the entry.
        return new MemoryNode(target.Entry) { Link = target.Link };
    }

    private void StoreData(TarMember member, TreeEntry entry)
    {
        if (member.DataLength == 0)
        {
            entry.Content = ObjectId.Zero;
            return;
        }

        if (member.DataLength > ParallelMemberLimit)
        {
            entry.Content = ContentStore.StoreStream(_writer, member.Data);
            return;
        }

        var length = (int)member.DataLength;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try
        {
            member.Data.ReadExactly(buffer, 0, length);
            _workers.Wait();
        }
        catch
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        _pending.Add(Task.Run(() =>
        {
            try
            {
                using var data = new MemoryStream(buffer, 0, length, writable: false);
                entry.Content = ContentStore.StoreStream(_writer, data);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                _workers.Release();
            }
        }));
    }

    private void ApplyWhiteout(List<byte[]> path, byte[] raw)
    {
        var name = path[^1];
        var dirPath = path.GetRange(0, path.Count - 1);
        var dir = Tree.Find(dirPath);
        if (dir?.Children is null)
        {
            // Nothing below to hide.
            return;
        }

        if (name.AsSpan().SequenceEqual(OpaqueWhiteout))
        {
            HideLower(dir);
            return;
        }

        var hidden = name[WhiteoutPrefix.Length..];
        if (hidden.Length == 0)
        {
            throw new StoreException($"layer member '{LinuxException.Printable(raw)}' is a whiteout with no name");
        }

        if (dir.Children.TryGetValue(hidden, out var victim) && !_layerNodes.Contains(victim))
        {
            dir.Children.Remove(hidden);
        }
    }

    /// <summary>Removes from DIR everything the lower layers put there, keeping what this layer added.</summary>
    private void HideLower(MemoryNode dir)
    {
        var children = dir.Children!;
        foreach (var (name, child) in children.ToList())
        {
            if (!_layerNodes.Contains(child))
            {
                children.Remove(name);
            }
            else if (child.Children is not null)
            {
                HideLower(child);
            }
        }
    }

    /// <summary>The parent directory of PATH, creating missing ones (0755 root:root, time 0).</summary>
    private MemoryNode ParentOf(List<byte[]> path, byte[] raw)
    {
        var node = Tree.Root;
        for (var i = 0; i < path.Count - 1; i++)
        {
            var name = path[i];
            TreeCodec.ValidateName(name);
            if (!node.Children!.TryGetValue(name, out var child))
            {
                child = new MemoryNode(ImplicitDirectory(name));
                node.Children[name] = child;
                _layerNodes.Add(child);
            }
            else if (child.Children is null)
            {
                throw new StoreException(
                    $"member '{LinuxException.Printable(raw)}' lies under '{LinuxException.Printable(Join(path, i + 1))}', which the archive made a {Describe(child.Entry.Kind)}: " +
                    "refusing to import a path through it");
            }
            else
            {
                _layerNodes.Add(child);
            }

            node = child;
        }

        return node;
    }

    /// <summary>
    /// The components of a member path: "." and empty components dropped, a leading '/' ignored (absolute names are
    /// taken relative to the image root), ".." refused because it could only climb out of the tree.
    /// </summary>
    public static List<byte[]> NormalisePath(ReadOnlySpan<byte> path, byte[] member)
    {
        var parts = new List<byte[]>();
        foreach (var range in path.Split((byte)'/'))
        {
            var part = path[range];
            if (part.IsEmpty || part.SequenceEqual("."u8))
            {
                continue;
            }

            if (part.SequenceEqual(".."u8))
            {
                throw new StoreException(
                    $"member '{LinuxException.Printable(member)}' has a '..' path component: the archive tries to reach outside the image; nothing was imported");
            }

            if (part.Contains((byte)0))
            {
                throw new StoreException($"member '{LinuxException.Printable(member)}' has a NUL byte in its name");
            }

            parts.Add(part.ToArray());
        }

        return parts;
    }

    private static TreeEntry EntryFor(TarMember member, byte[] name)
    {
        var kind = member.Kind switch
        {
            TarMemberKind.Regular => FileKind.Regular,
            TarMemberKind.Symlink => FileKind.Symlink,
            TarMemberKind.CharDevice => FileKind.CharDevice,
            TarMemberKind.BlockDevice => FileKind.BlockDevice,
            TarMemberKind.Directory => FileKind.Directory,
            TarMemberKind.Fifo => FileKind.Fifo,
            _ => throw new InvalidOperationException($"no entry kind for {member.Kind}"),
        };
        var entry = new TreeEntry
        {
            Name = name,
            Kind = kind,
            Permissions = member.Permissions,
            Uid = member.Uid,
            Gid = member.Gid,
            MtimeSeconds = member.MtimeSeconds,
            MtimeNanoseconds = member.MtimeNanoseconds,
            Xattrs = member.Xattrs,
            Size = kind == FileKind.Regular ? member.Size : 0,
        };
        if (kind == FileKind.Regular && member.Extents is { } extents &&
            !(extents.Count == 1 && extents[0].Offset == 0 && extents[0].Length == member.Size))
        {
            entry.Extents = extents;
        }

        if (kind == FileKind.Symlink)
        {
            if (member.LinkTarget is not { Length: > 0 } target)
            {
                throw new StoreException($"member '{LinuxException.Printable(member.Path)}' is a symlink with an empty target");
            }

            entry.Target = target;
        }
        else if (kind is FileKind.CharDevice or FileKind.BlockDevice)
        {
            entry.RdevMajor = member.DevMajor;
            entry.RdevMinor = member.DevMinor;
        }

        return entry;
    }

    private static TreeEntry ImplicitDirectory(byte[] name) => new()
    {
        Name = name,
        Kind = FileKind.Directory,
        Permissions = ImplicitDirectoryPermissions,
    };

    private static byte[] Join(List<byte[]> path, int count)
    {
        var result = new List<byte>();
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                result.Add((byte)'/');
            }

            result.AddRange(path[i]);
        }

        return [.. result];
    }

    private static string Describe(FileKind kind) => kind switch
    {
        FileKind.Symlink => "symlink",
        FileKind.Regular => "regular file",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Counts the raw bytes read, for progress over a compressed archive.</summary>
    private sealed class CountingStream(Stream inner) : ReadOnlyStream
    {
        public long Count { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            Count += n;
            return n;
        }

    }
}
