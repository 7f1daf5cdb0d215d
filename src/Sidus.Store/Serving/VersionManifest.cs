using Sidus.Wire.Contracts;

namespace Sidus.Store.Serving;

/// <summary>A version as the manifest a node fetches (<see cref="ManifestFormat"/>): its tree walked, sockets left out.</summary>
public static class VersionManifest
{
    /// <summary>Writes the manifest of version COMMIT to OUTPUT; returns the number of entries.</summary>
    public static long Write(Repository repository, Commit commit, Stream output, CancellationToken cancellation) =>
        ManifestWriter.Write(output, Export.VersionWalker.Walk(repository, commit, cancellation)
            .Where(item => item.Entry.Kind != FileKind.Socket)
            .Select(item => ToManifest(item.Path, item.Entry)));

    /// <summary>ENTRY at PATH (empty for the root) as a manifest line.</summary>
    public static ManifestEntry ToManifest(byte[] path, TreeEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var regular = entry.Kind == FileKind.Regular;
        return new ManifestEntry
        {
            Kind = entry.Kind,
            Path = path,
            Mode = entry.Permissions,
            Uid = entry.Uid,
            Gid = entry.Gid,
            MtimeSeconds = entry.MtimeSeconds,
            MtimeNanoseconds = entry.MtimeNanoseconds,
            Size = regular ? entry.Size : 0,
            Content = regular ? Id(entry.Content) : null,
            LinkGroup = entry.LinkGroup,
            Major = entry.RdevMajor,
            Minor = entry.RdevMinor,
            Target = entry.Kind == FileKind.Symlink ? entry.Target : null,
            Extents = regular ? entry.Extents?.Select(e => new ManifestExtent(e.Offset, e.Length)).ToList() : null,
            Xattrs = entry.Xattrs,
        };
    }

    private static byte[] Id(Objects.ObjectId id)
    {
        var bytes = new byte[Objects.ObjectId.Size];
        id.Write(bytes);
        return bytes;
    }
}
