using Sidus.Cli.Commands.Inventory;
using Sidus.Nodes.Storage;
using Sidus.Server.Images;

namespace Sidus.Cli.Commands.Image;

/// <summary>The CLI's reading of <see cref="Sidus.Server.Images.ImageUsers"/>: from the inventory the command names.</summary>
public static class ImageUsersCli
{
    public static async Task<IReadOnlyList<ImageUser>> ReadAsync(ParseResult r, Option<string?> db, Repository repository, CancellationToken ct)
    {
        var location = InventoryCli.Location(r, db);
        if (!InventoryStore.IsPostgres(location) && !File.Exists(location))
        {
            return [];
        }

        await using var inventory = await InventoryStore.OpenAsync(location, ct: ct);
        return ImageUsers.Of(await inventory.LoadAsync(ct), repository);
    }
}
