using Sidus.Store.Import;
using Sidus.Store.Sync;

namespace Sidus.Store.Export;

/// <summary>
/// Streams a version as a newc cpio archive (what the kernel unpacks as an initramfs, and what `cpio -i` reads):
/// owners, modes, times (whole seconds), hard links by newc's rule (shared inode number, the data with the last
/// name), devices, fifos and sockets. newc has no xattrs and no holes: xattrs are left out and counted, holes are
/// written as zeros.
/// </summary>
public sealed class CpioExporter(Repository repository)
{
    private const int ProgressEvery = 256;
    private const int ZeroBufferLength = 64 * 1024;

    public ExportResult Export(ObjectId commitId, Stream output, IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        var commit = repository.ReadCommit(commitId);
        var groupSizes = VersionWalker.LinkGroupSizes(repository, commit, cancellation);
        var groupSeen = new Dictionary<uint, (uint Inode, int Count)>();
        var writer = new CpioWriter(output);
        var warnings = new List<string>();
        long entries = 0, bytes = 0, droppedXattrs = 0;
        foreach (var (path, entry) in VersionWalker.Walk(repository, commit, cancellation))
        {
            var name = path.Length == 0 ? "."u8.ToArray() : path;
            if (entry.Xattrs.Count > 0)
            {
                droppedXattrs++;
            }

            uint inode, links = entry.Kind == FileKind.Directory ? 2u : 1u;
            var last = true;
            if (entry.LinkGroup != 0)
            {
                var total = groupSizes[entry.LinkGroup];
                var (groupInode, count) = groupSeen.TryGetValue(entry.LinkGroup, out var seen) ? seen : (writer.NextInode(), 0);
                groupSeen[entry.LinkGroup] = (groupInode, count + 1);
                inode = groupInode;
                links = (uint)total;
                last = count + 1 == total;
            }
            else
            {
                inode = writer.NextInode();
            }

            var size = entry.Kind switch
            {
                FileKind.Regular when last => entry.Size,
                FileKind.Symlink when last => entry.Target!.Length,
                _ => 0,
            };
            writer.WriteHeader(new CpioEntry(name, FileStatus.ModeBitsOf(entry.Kind) | entry.Permissions, entry.Uid, entry.Gid, links,
                entry.MtimeSeconds, size, inode, entry.RdevMajor, entry.RdevMinor));
            if (entry.Kind == FileKind.Symlink && last)
            {
                writer.WriteData(entry.Target);
            }
            else if (entry.Kind == FileKind.Regular && last && entry.Size > 0)
            {
                bytes += WriteContent(writer, entry);
            }

            if ((++entries % ProgressEvery) == 0)
            {
                progress?.Report(new TransferProgress("writing cpio", entries, commit.Entries + 1, bytes, commit.LogicalBytes));
            }
        }

        writer.Finish();
        if (droppedXattrs > 0)
        {
            warnings.Add($"{droppedXattrs} entries have xattrs (capabilities, ACLs, SELinux labels), which newc cpio cannot hold: they were left out");
        }

        progress?.Report(new TransferProgress("writing cpio", entries, entries, bytes, Math.Max(bytes, commit.LogicalBytes)));
        return new ExportResult { Entries = entries, DataBytes = bytes, DroppedXattrs = droppedXattrs, Warnings = warnings, OutputBytes = writer.Position };
    }

    /// <summary>Writes a file's whole length: its data where it has extents, zeros in its holes.</summary>
    private long WriteContent(CpioWriter writer, TreeEntry entry)
    {
        var zeros = new byte[ZeroBufferLength];
        long at = 0;
        void Zeros(long until)
        {
            while (at < until)
            {
                var n = (int)Math.Min(zeros.Length, until - at);
                writer.WriteData(zeros.AsSpan(0, n));
                at += n;
            }
        }

        if (entry.DataLength > 0)
        {
            var cursor = new SparseCursor(entry);
            foreach (var piece in ContentStore.Read(repository.Objects, entry.Content))
            {
                for (var span = piece.Span; !span.IsEmpty;)
                {
                    var n = cursor.Next(span.Length, out var offset);
                    Zeros(offset);
                    writer.WriteData(span[..n]);
                    at += n;
                    span = span[n..];
                }
            }
        }

        Zeros(entry.Size);
        return entry.Size;
    }
}
