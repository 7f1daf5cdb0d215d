namespace Sidus.Nodes;

/// <summary>
/// The rule that the inventory names only images, versions and tags that exist. The inventory cannot see the image
/// store itself: whoever opens it (the CLI, `sidus serve`) gives <see cref="Storage.InventoryStore.Images"/>, the
/// store's answer (null when SPEC resolves, else why not). Only a setting that changes is checked, so a version
/// removed with --force blocks no unrelated edit.
/// </summary>
public static class ImageReferenceRule
{
    /// <summary>Refuses IMAGE (not found) when it changed from BEFORE and names nothing; AT is where it was written (cluster.yaml:LINE:COL).</summary>
    public static void Require(Func<string, string?>? check, string? image, string? before, string holder, string? at = null)
    {
        if (check is null || image is null || image == before || check(image) is not { } problem)
        {
            return;
        }

        Throw.NotFound($"{(at is null ? string.Empty : at + ": ")}{holder} cannot boot '{image}': {problem}");
    }
}
