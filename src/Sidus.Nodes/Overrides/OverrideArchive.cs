using System.Formats.Tar;

namespace Sidus.Nodes.Overrides;

/// <summary>
/// A node's layer as a ustar archive (System.Formats.Tar, no reflection: NativeAOT-safe): one entry per file,
/// directory and symlink with its mode, uid and gid; names relative ("etc/hostname"); mtime fixed so the same layer
/// gives the same bytes.
/// </summary>
public static class OverrideArchive
{
    /// <summary>Every entry's modification time: the layer has no history of its own.</summary>
    public static readonly DateTimeOffset EntryTime = DateTimeOffset.UnixEpoch;

    public static void Write(IEnumerable<OverrideFile> files, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(files);
        using var writer = new TarWriter(destination, TarEntryFormat.Ustar, leaveOpen: true);
        foreach (var f in files)
        {
            var entry = new UstarTarEntry(
                f.Kind switch
                {
                    OverrideKind.Directory => TarEntryType.Directory,
                    OverrideKind.Symlink => TarEntryType.SymbolicLink,
                    _ => TarEntryType.RegularFile,
                },
                f.Path)
            {
                Mode = (UnixFileMode)(f.Mode & OverrideFile.PermissionMask),
                Uid = checked((int)f.Uid),
                Gid = checked((int)f.Gid),
                ModificationTime = EntryTime,
            };
            if (f.Kind == OverrideKind.Symlink)
            {
                entry.LinkName = f.LinkTarget ?? string.Empty;
            }

            if (f.Kind == OverrideKind.File)
            {
                entry.DataStream = new MemoryStream(f.Content, writable: false);
            }

            writer.WriteEntry(entry);
        }
    }

    public static byte[] ToBytes(IEnumerable<OverrideFile> files)
    {
        using var buffer = new MemoryStream();
        Write(files, buffer);
        return buffer.ToArray();
    }
}
