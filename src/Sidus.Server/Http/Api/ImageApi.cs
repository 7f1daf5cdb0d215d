using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Sidus.Store;
using Sidus.Store.Diff;
using Sidus.Store.Json;
using Sidus.Store.Objects;
using Sidus.Store.Trees;

namespace Sidus.Server.Http.Api;

/// <summary>
/// The image store as REST resources: images, their versions, tags, the diff between two versions, rollback and
/// removal. Each answer has the shape the matching `sidus image` verb prints with --json (<see cref="VersionJson"/>);
/// each change takes the store's writer lock as the verb does (waiting at most <see cref="LockWait"/>: then 503).
/// </summary>
public static class ImageApi
{
    /// <summary>How long a change waits for another writer (an import, a build) before answering 503.</summary>
    public static readonly TimeSpan LockWait = TimeSpan.FromSeconds(5);

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/images", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, c => AnswerAsync(c, ListImages)));
        app.MapGet("/api/images/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, c => AnswerAsync(c, ShowImage)));
        app.MapDelete("/api/images/{name}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, RemoveImageAsync));
        app.MapGet("/api/images/{name}/versions", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, c => AnswerAsync(c, ListVersions)));
        app.MapGet("/api/images/{name}/versions/{version}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, c => AnswerAsync(c, ShowVersion)));
        app.MapDelete("/api/images/{name}/versions/{version}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, RemoveVersionAsync));
        app.MapPut("/api/images/{name}/tags/{tag}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, SetTagAsync));
        app.MapDelete("/api/images/{name}/tags/{tag}", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, RemoveTagAsync));
        app.MapGet("/api/images/{name}/diff", ctx => ApiCall.RunAsync(ctx, ApiNeed.Read, c => AnswerAsync(c, Diff)));
        app.MapPost("/api/images/{name}/rollback", ctx => ApiCall.RunAsync(ctx, ApiNeed.Write, RollbackAsync));
    }

    /// <summary>Runs a read of the store off the request thread (the store's reads are synchronous file reads).</summary>
    private static async Task AnswerAsync(HttpContext ctx, Func<Repository, HttpContext, JsonNode> read)
    {
        var home = ctx.RequestServices.GetRequiredService<ImageStoreView>().Home;
        var answer = await Task.Run(() =>
        {
            using var repository = Repository.Open(home);
            return read(repository, ctx);
        }, ctx.RequestAborted);
        await HttpHelpers.JsonAsync(ctx, answer);
    }

    /// <summary>Runs a change with the writer lock held by the store's own operation (as `sidus image ...` does).</summary>
    private static Task<T> ChangeAsync<T>(HttpContext ctx, Func<ImageStore, T> change)
    {
        var home = ctx.RequestServices.GetRequiredService<ImageStoreView>().Home;
        return Task.Run(() =>
        {
            using var repository = Repository.Open(home);
            return change(new ImageStore(repository) { LockWait = LockWait });
        }, ctx.RequestAborted);
    }

    private static string Name(HttpContext ctx) => ctx.Request.RouteValues["name"] as string ?? string.Empty;

    /// <summary>`image list --json`: each image's newest version with every tag of the image.</summary>
    private static JsonNode ListImages(Repository repo, HttpContext ctx) =>
        new JsonArray([.. repo.Refs.Images().Select(name =>
        {
            var id = repo.Refs.Head(name)!.Value;
            return (JsonNode?)VersionJson.Version(id, repo.ReadCommit(id), repo.Refs.Tags(name).Keys);
        })]);

    /// <summary>`image show NAME --json`: the newest version (or NAME@N, NAME:TAG) with the tags naming it.</summary>
    private static JsonNode ShowImage(Repository repo, HttpContext ctx) => Show(repo, Name(ctx));

    private static JsonNode ShowVersion(Repository repo, HttpContext ctx)
    {
        var image = Image(Name(ctx));
        return Show(repo, Within(image, ctx.Request.RouteValues["version"] as string ?? string.Empty));
    }

    private static JsonObject Show(Repository repo, string spec)
    {
        var (id, commit) = repo.Resolve(spec);
        return VersionJson.Version(id, commit, TagsOf(repo, commit.Image, id));
    }

    /// <summary>`image log NAME --json`: every version, newest first, each with its tags.</summary>
    private static JsonNode ListVersions(Repository repo, HttpContext ctx)
    {
        var image = Image(Name(ctx));
        var tagsById = repo.Refs.Tags(image).GroupBy(t => t.Value).ToDictionary(g => g.Key, g => g.Select(t => t.Key).ToList());
        return new JsonArray([.. repo.History(image).Select(v =>
            (JsonNode?)VersionJson.Version(v.Id, v.Commit, tagsById.GetValueOrDefault(v.Id) ?? []))]);
    }

    /// <summary>`image diff NAME@FROM NAME@TO --json`: ?from= is needed, ?to= is the newest when left out.</summary>
    private static JsonNode Diff(Repository repo, HttpContext ctx)
    {
        var image = Image(Name(ctx));
        var from = ctx.Request.Query["from"].ToString();
        if (from.Length == 0)
        {
            throw new StoreException("say which versions to compare: ?from=N (and ?to=N, the newest when left out)", StoreErrorKind.Usage);
        }

        var to = ctx.Request.Query["to"].ToString();
        var (_, a) = repo.Resolve(Within(image, from));
        var (_, b) = repo.Resolve(to.Length == 0 ? image : Within(image, to));
        return VersionJson.Changes(TreeDiff.Compare(repo, a.Root, b.Root));
    }

    /// <summary>PUT a tag: the body {"version": "N"} names the version (the newest when left out); moves an existing tag.</summary>
    private static async Task SetTagAsync(HttpContext ctx)
    {
        var image = Image(Name(ctx));
        var tag = ctx.Request.RouteValues["tag"] as string ?? string.Empty;
        var version = Version(await ApiCall.ReadObjectAsync(ctx));
        var answer = await ChangeAsync(ctx, images =>
        {
            var (id, commit) = images.Tag(version is null ? image : Within(image, version), tag);
            return VersionJson.Version(id, commit, TagsOf(images.Repository, image, id));
        });
        Changed(ctx, $"tagged {image}:{tag}");
        await HttpHelpers.JsonAsync(ctx, answer);
    }

    private static async Task RemoveTagAsync(HttpContext ctx)
    {
        var image = Image(Name(ctx));
        var tag = ctx.Request.RouteValues["tag"] as string ?? string.Empty;
        await ChangeAsync(ctx, images =>
        {
            images.Untag(image, tag);
            return true;
        });
        Changed(ctx, $"removed tag {image}:{tag}");
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>POST rollback {"version": "N"}: that version's tree as a new newest version (201), as `image rollback`.</summary>
    private static async Task RollbackAsync(HttpContext ctx)
    {
        var image = Image(Name(ctx));
        var version = Version(await ApiCall.ReadObjectAsync(ctx))
            ?? throw new StoreException("say which version to return to: {\"version\": \"N\"}", StoreErrorKind.Usage);
        var result = await ChangeAsync(ctx, images => images.Rollback(image, Within(image, version)));
        Changed(ctx, $"rolled {image} back to {version}");
        await HttpHelpers.JsonAsync(ctx, VersionJson.Result(result), StatusCodes.Status201Created);
    }

    /// <summary>
    /// DELETE an image with its versions and tags (`image rm`); its data goes at the next `sidus store gc`. Refused
    /// (409, naming them) while nodes, groups or the defaults boot it, unless ?force=true.
    /// </summary>
    private static async Task RemoveImageAsync(HttpContext ctx)
    {
        var image = Image(Name(ctx));
        var force = Force(ctx);
        var versions = await ChangeAsync(ctx, images =>
        {
            images.Repository.Resolve(image); // a missing image is 404, whoever still names it
            RefuseInUse(ctx, images.Repository, image, $"image '{image}'", force);
            return images.Remove(image);
        });
        Changed(ctx, $"removed image {image} ({versions} versions)");
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>
    /// DELETE one version (`image rm NAME@VER`): refused while something boots it or a tag names it, unless
    /// ?force=true (which deletes its tags too); the newest version cannot go alone.
    /// </summary>
    private static async Task RemoveVersionAsync(HttpContext ctx)
    {
        var spec = Within(Image(Name(ctx)), ctx.Request.RouteValues["version"] as string ?? string.Empty);
        var force = Force(ctx);
        var removed = await ChangeAsync(ctx, images =>
        {
            images.Repository.Resolve(spec);
            RefuseInUse(ctx, images.Repository, spec, spec, force);
            return images.RemoveVersion(spec, dropTags: force);
        });
        Changed(ctx, $"removed {removed.Image}@{removed.Sequence}");
        ctx.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static void RefuseInUse(HttpContext ctx, Repository repository, string spec, string what, bool force)
    {
        var snapshot = ctx.RequestServices.GetRequiredService<InventoryView>().Current;
        var users = Images.ImageUsers.Of(Images.ImageUsers.Of(snapshot, repository), repository, spec);
        if (users.Count > 0 && !force)
        {
            throw new StoreException(
                $"{what} is in use by {Images.ImageUsers.Describe(users)}: give them another image, or add ?force=true", StoreErrorKind.Conflict);
        }
    }

    private static bool Force(HttpContext ctx) => ctx.Request.Query["force"].ToString() switch
    {
        "" or "false" => false,
        "true" => true,
        var other => throw new StoreException($"force is true or false, not '{other}'", StoreErrorKind.Usage),
    };

    /// <summary>An image name from the URL (a bare name: versions and tags have their own segments).</summary>
    private static string Image(string name)
    {
        Sidus.Store.Refs.RefStore.ValidateName(name, "image");
        return name;
    }

    /// <summary>A version of IMAGE: N or an id prefix (IMAGE@...), or a tag written :TAG.</summary>
    private static string Within(string image, string version) =>
        version.StartsWith(':') ? image + version : $"{image}@{version}";

    private static string? Version(JsonElement body)
    {
        foreach (var p in body.EnumerateObject())
        {
            if (p.Name != "version")
            {
                throw new StoreException($"the body has no field '{p.Name}' (fields: version)", StoreErrorKind.Usage);
            }
        }

        return !body.TryGetProperty("version", out var v) || v.ValueKind == JsonValueKind.Null ? null
            : v.ValueKind == JsonValueKind.String ? v.GetString()
            : v.ValueKind == JsonValueKind.Number ? v.GetRawText()
            : throw new StoreException("'version' is a number N, an id prefix or :TAG", StoreErrorKind.Usage);
    }

    private static List<string> TagsOf(Repository repo, string image, ObjectId id) =>
        [.. repo.Refs.Tags(image).Where(t => t.Value == id).Select(t => t.Key)];

    private static void Changed(HttpContext ctx, string summary) =>
        ServerLog.AdminApplied(
            ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Sidus.Server.Admin"),
            AdminAccess.Check(ctx).TokenName!, HttpHelpers.Client(ctx), summary);
}
