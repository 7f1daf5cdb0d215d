using Sidus.Store.Import;

namespace Sidus.Store.Export;

/// <summary>
/// Streams a version as a PAX tar straight from the store (no temporary copy): `tar --xattrs --xattrs-include='*'
/// --acls -xpf` restores it exactly, hard links as links, devices, fifos, holes and capabilities included. Sockets
/// cannot be in a tar: they are left out and counted.
/// </summary>
public sealed class TarExporter(Repository repository)
{
    private const int ProgressEvery = 256;

    /// <summary>Write the root directory as "./" (GNU tar restores its metadata); sqfstar wants no root member.</summary>
    public bool IncludeRoot { get; init; } = true;

    /// <summary>Prefix paths with "./" as `tar -C DIR .` does; sqfstar rejects "." components, link targets included.</summary>
    public bool DotSlashPrefix { get; init; } = true;

    public ExportResult Export(ObjectId commitId, Stream output, IProgress<TransferProgress>? progress, CancellationToken cancellation)
    {
        var commit = repository.ReadCommit(commitId);
        var writer = new TarWriter(output);
        var firstOfGroup = new Dictionary<uint, byte[]>();
        var warnings = new List<string>();
        long entries = 0, bytes = 0, sockets = 0;
        foreach (var (path, entry) in VersionWalker.Walk(repository, commit, cancellation))
        {
            if (entry.Kind == FileKind.Socket)
            {
                sockets++;
                warnings.Add($"socket {LinuxException.Printable(path)} left out: tar cannot hold sockets");
                continue;
            }

            if (path.Length == 0 && !IncludeRoot)
            {
                continue;
            }

            var name = ArchivePath(path, entry.Kind == FileKind.Directory, DotSlashPrefix);
            if (entry.LinkGroup != 0 && firstOfGroup.TryGetValue(entry.LinkGroup, out var first))
            {
                writer.WriteMember(Member(entry, name, TarMemberKind.HardLink, first));
            }
            else
            {
                if (entry.LinkGroup != 0)
                {
                    firstOfGroup[entry.LinkGroup] = name;
                }

                writer.WriteMember(Member(entry, name, KindOf(entry.Kind), entry.Target));
                if (entry.Kind == FileKind.Regular && entry.DataLength > 0)
                {
                    foreach (var piece in ContentStore.Read(repository.Objects, entry.Content))
                    {
                        writer.WriteData(piece.Span);
                        bytes += piece.Length;
                    }
                }
            }

            if ((++entries % ProgressEvery) == 0)
            {
                progress?.Report(new TransferProgress("writing tar", entries, commit.Entries + 1, bytes, commit.LogicalBytes));
            }
        }

        writer.Finish();
        progress?.Report(new TransferProgress("writing tar", entries, entries, bytes, Math.Max(bytes, commit.LogicalBytes)));
        return new ExportResult { Entries = entries, DataBytes = bytes, SkippedSockets = sockets, Warnings = warnings, OutputBytes = writer.Position };
    }

    /// <summary>"./PATH" as GNU tar writes it for `tar -C DIR .`; directories end in '/'.</summary>
    public static byte[] ArchivePath(byte[] path, bool directory, bool dotSlash = true) =>
        path.Length == 0 ? "./"u8.ToArray() : [.. (dotSlash ? "./"u8 : []), .. path, .. (directory ? "/"u8 : [])];

    private static TarMember Member(TreeEntry entry, byte[] name, TarMemberKind kind, byte[]? link) => new()
    {
        Path = name,
        Kind = kind,
        Permissions = entry.Permissions,
        Uid = entry.Uid,
        Gid = entry.Gid,
        MtimeSeconds = entry.MtimeSeconds,
        MtimeNanoseconds = entry.MtimeNanoseconds,
        Size = kind == TarMemberKind.Regular ? entry.Size : 0,
        DataLength = kind == TarMemberKind.Regular ? entry.DataLength : 0,
        Extents = kind == TarMemberKind.Regular ? entry.Extents : null,
        LinkTarget = link,
        DevMajor = entry.RdevMajor,
        DevMinor = entry.RdevMinor,
        Xattrs = kind == TarMemberKind.HardLink ? [] : entry.Xattrs,
    };

    private static TarMemberKind KindOf(FileKind kind) => kind switch
    {
        FileKind.Regular => TarMemberKind.Regular,
        FileKind.Directory => TarMemberKind.Directory,
        FileKind.Symlink => TarMemberKind.Symlink,
        FileKind.CharDevice => TarMemberKind.CharDevice,
        FileKind.BlockDevice => TarMemberKind.BlockDevice,
        FileKind.Fifo => TarMemberKind.Fifo,
        _ => throw new InvalidOperationException($"{kind} has no tar member type"),
    };
}
