using Sidus.Store.Objects;

namespace Sidus.Server.Install;

/// <summary>The server's rules about installed nodes that more than one part needs.</summary>
public static class InstalledNodes
{
    /// <summary>
    /// Whether node NODE's key opens VERSION: the version its disk holds, or any version of the image the node is set
    /// to boot (an update may be to any of them, `--to IMAGE@VER` included). Nothing of another image.
    /// </summary>
    public static bool KeyOpens(InventorySnapshot snapshot, ImageCatalog images, string node, ObjectId version)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(images);
        if (snapshot.Installed(node) is { } installed && installed.Version == version.ToString())
        {
            return true;
        }

        if (snapshot.FindNode(node) is not { } n || snapshot.Resolve(n).Image.Value is not { } spec)
        {
            return false;
        }

        var name = spec.Split('@', ':')[0];
        return images.Version(version).Files is { } files && files.Image == name;
    }
}
