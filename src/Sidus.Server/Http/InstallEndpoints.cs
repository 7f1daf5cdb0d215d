using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Nodes.Layouts;
using Sidus.Server.Access;
using Sidus.Server.Install;
using Sidus.Store.Objects;

namespace Sidus.Server.Http;

/// <summary>
/// The installing agent's routes (<see cref="InstallPlan"/>, docs/installed-nodes.md): the plan for its disks, its
/// key, and the report that the disk holds the version. Each needs the node's own credential: the plan and the key
/// the installing boot's session (an installed node never gets a second key from its first), the report the session
/// or, after an update, the key.
/// </summary>
internal static class InstallEndpoints
{
    private const int MaxDisksText = 64 * 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost(InstallPlan.PlanTemplate, PlanAsync);
        app.MapPost(InstallPlan.KeyTemplate, KeyAsync);
        app.MapPost(InstallPlan.InstalledTemplate, DoneAsync);
    }

    private static async Task PlanAsync(HttpContext ctx)
    {
        if (await NodeRoute.RequireAsync(ctx, "the install plan") is not var (node, decision))
        {
            return;
        }

        var snapshot = ctx.RequestServices.GetRequiredService<InventoryView>().Current;
        var settings = snapshot.Resolve(node);
        var logger = Log(ctx);
        if (settings.Mode.Value != BootMode.Install)
        {
            await RefuseAsync(ctx, logger, node, StatusCodes.Status409Conflict, $"node {node.Name} is in mode {settings.Mode.Value.ToText()}, not install: nothing is installed");
            return;
        }

        var images = ctx.RequestServices.GetRequiredService<ImageCatalog>();
        var lookup = decision.Token is { } token ? images.Version(token.Version) : settings.Image.Value is { } spec ? images.Lookup(spec) : null;
        if (lookup?.Files is not { } files)
        {
            await RefuseAsync(ctx, logger, node, StatusCodes.Status409Conflict, $"node {node.Name}: its version cannot be found ({lookup?.Problem ?? "no image set"})");
            return;
        }

        string? body = await HttpHelpers.ReadTextAsync(ctx, MaxDisksText);
        (string Firmware, IReadOnlyList<DiskFacts> Disks) found;
        try
        {
            found = InstallPlan.ParseDisks(body ?? throw new FormatException($"more than {MaxDisksText} characters"));
        }
        catch (FormatException e)
        {
            await RefuseAsync(ctx, logger, node, StatusCodes.Status400BadRequest, "the disks could not be read: " + e.Message);
            return;
        }

        InstallPlan plan;
        try
        {
            var (layout, layoutName) = LayoutOf(snapshot, settings);
            var imageRef = $"{files.Image}@{files.Sequence.ToString(CultureInfo.InvariantCulture)}";
            using var lease = images.Store.Acquire();
            VersionFootprint footprint;
            try
            {
                footprint = VersionFootprint.Of(lease.Repository, files.Version, ctx.RequestAborted);
            }
            catch (IOException e)
            {
                // A damaged tree: the version cannot be installed, and the admin needs its reason, not a 500.
                throw VersionDataCheck.TreesUnreadable(imageRef, e);
            }

            plan = InstallPlanner.Plan(layout, layoutName, found.Firmware, found.Disks, files.Version.ToString(),
                imageRef, settings.KernelArgs.Value ?? string.Empty, footprint);
            // Last: the layout's refusals cost nothing, this one reads the whole version (once per opened store).
            await VersionDataCheck.EnsureIntactAsync(lease.Repository, lease.Serving, files.Version, imageRef, ctx.RequestAborted);
        }
        catch (InstallPlanException e)
        {
            await RefuseAsync(ctx, logger, node, StatusCodes.Status409Conflict, e.Message);
            return;
        }

        ServerLog.InstallStep(logger, node.Name, $"plan for {plan.ImageRef} with layout {settings.Layout.Value ?? DefaultLayout.Name} on {string.Join(", ", plan.Disks.Select(d => d.Id + "=" + d.Device))} ({found.Firmware})");
        await HttpHelpers.TextAsync(ctx, plan.Format());
    }

    private static async Task KeyAsync(HttpContext ctx)
    {
        if (await NodeRoute.RequireAsync(ctx, "a node key") is not var (node, decision))
        {
            return;
        }

        if (decision.Token is not { Kind: NodeTokenKind.Session } session)
        {
            await RefuseAsync(ctx, Log(ctx), node, StatusCodes.Status403Forbidden, "a node key is given only to the node's installing boot (its session)");
            return;
        }

        var key = ctx.RequestServices.GetRequiredService<NodeAccess>().IssueKey(session);
        ServerLog.InstallStep(Log(ctx), node.Name, "key issued");
        await HttpHelpers.TextAsync(ctx, key + "\n");
    }

    private static async Task DoneAsync(HttpContext ctx)
    {
        if (await NodeRoute.RequireAsync(ctx, "the install report") is not var (node, decision))
        {
            return;
        }

        var body = await HttpHelpers.ReadTextAsync(ctx, 200);
        if (!InstallPlan.TryParseDone(body, out var updated, out var version))
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status400BadRequest, "expected 'installed VERSIONID' or 'updated VERSIONID' (text/plain)");
            return;
        }

        var images = ctx.RequestServices.GetRequiredService<ImageCatalog>();
        var id = ObjectId.Parse(version);
        if (decision.Token is { Kind: NodeTokenKind.Session } session && session.Version != id)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status403Forbidden, $"this boot installs {session.Version.Short}, not {id.Short}");
            return;
        }

        if (images.Version(id).Files is not { } files)
        {
            await HttpHelpers.RefuseAsync(ctx, StatusCodes.Status404NotFound, $"no version {version} in this store");
            return;
        }

        var imageRef = $"{files.Image}@{files.Sequence.ToString(CultureInfo.InvariantCulture)}";
        var store = ctx.RequestServices.GetRequiredService<InventoryView>().Store;
        await store.RecordInstalledAsync(node.Name, version, imageRef, DateTimeOffset.UtcNow, updated, ctx.RequestAborted);
        ServerLog.InstallStep(Log(ctx), node.Name, (updated ? "updated to " : "installed with ") + imageRef);
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>
    /// The layout a node installs with: its own, its group's or the defaults' (`sidus layout`), else Sidus's default.
    /// A layout named but no longer stored (removed with --force) is refused: falling back to another could wipe a
    /// disk the admin meant to lay out otherwise.
    /// </summary>
    private static (Layout Layout, string Name) LayoutOf(InventorySnapshot snapshot, EffectiveSettings settings)
    {
        if (settings.Layout.Value is not { } name)
        {
            return (DefaultLayout.Parse(), DefaultLayout.Name);
        }

        if (snapshot.Layout(name) is not { } stored)
        {
            throw new InstallPlanException($"the node's layout {name} ({settings.Layout.Origin}) is not stored any more: sidus layout set {name} FILE, or set another");
        }

        try
        {
            return (stored.Parse(), $"{name} (revision {stored.Revision})");
        }
        catch (LayoutException e)
        {
            throw new InstallPlanException($"layout {name} cannot be read: {e.Message}");
        }
    }

    private static async Task RefuseAsync(HttpContext ctx, ILogger logger, Node node, int status, string reason)
    {
        ServerLog.InstallRefused(logger, node.Name, reason);
        await HttpHelpers.RefuseAsync(ctx, status, reason);
    }

    private static ILogger Log(HttpContext ctx) => ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Install");
}
