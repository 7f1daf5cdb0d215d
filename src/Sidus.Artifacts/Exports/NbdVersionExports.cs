using Sidus.Artifacts.Versions;
using Sidus.Wire.Nbd;

namespace Sidus.Artifacts.Exports;

/// <summary>
/// What the NBD server serves: one export per version id, the version's erofs export from
/// <see cref="VersionArtifacts"/> (waited for, never blocking a thread, when a node connects before it is made).
/// </summary>
public sealed class NbdVersionExports(VersionArtifacts artifacts, ImageStoreView store) : INbdExportSource
{
    private ErofsExports Exports => artifacts.Exports ?? throw new InvalidOperationException("NBD is served without erofs exports");

    public IReadOnlyList<NbdExportListing> List() => Exports.List();

    public async ValueTask<NbdOpenResult> OpenAsync(string name, IPEndPoint? client, CancellationToken cancellation)
    {
        if (!ObjectId.TryParse(name, out var version) || version.ToString() != name)
        {
            return NbdOpenResult.Unknown($"'{name}' is not a version id (64 lower-case hex digits)");
        }

        if (!store.HasVersion(version, reopen: true))
        {
            return NbdOpenResult.Unknown($"version {version.Short} is not in the image store");
        }

        ErofsExportFile file;
        try
        {
            file = await artifacts.ExportAsync(version).WaitAsync(cancellation);
        }
        catch (ArtifactException e)
        {
            return NbdOpenResult.Unavailable($"the erofs export of {version.Short} cannot be made: {e.Message}");
        }

        return Exports.Open(file);
    }
}
