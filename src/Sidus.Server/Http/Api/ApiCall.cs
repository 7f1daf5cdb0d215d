using System.Text.Json;
using System.Text.RegularExpressions;
using Sidus.Server.Hosting;
using Sidus.Store;

namespace Sidus.Server.Http.Api;

/// <summary>Who may make a call of the API.</summary>
public enum ApiNeed
{
    /// <summary>A read: an admin, or anyone when [api] public-reads is on.</summary>
    Read,

    /// <summary>A change: an admin, always.</summary>
    Write,
}

/// <summary>
/// Runs one API call: checks who asks (<see cref="AdminAccess"/>, the one check), then the body; the errors the
/// libraries raise become problem documents with the status they mean (invalid 400, not found 404, conflict 409,
/// busy 503), never a stack trace.
/// </summary>
public static partial class ApiCall
{
    /// <summary>Largest JSON body a write takes (a node, a group, a tag: a few hundred bytes).</summary>
    public const int MaxJsonBody = 64 * 1024;

    public static async Task RunAsync(HttpContext ctx, ApiNeed need, Func<HttpContext, Task> body)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(body);
        var allowed = need == ApiNeed.Read && ctx.RequestServices.GetRequiredService<RunningOptions>().Current.Api.PublicReads
            || await AdminAccess.RequireAsync(ctx);
        if (!allowed)
        {
            return;
        }

        try
        {
            await body(ctx);
        }
        catch (InventoryException e)
        {
            var place = YamlPlace().Match(e.Message);
            await ApiProblem.WriteAsync(ctx, Status(e.Kind), e.Message,
                place.Success ? int.Parse(place.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : null,
                place.Success && place.Groups[2].Success ? int.Parse(place.Groups[2].ValueSpan, CultureInfo.InvariantCulture) : null);
        }
        catch (StoreException e)
        {
            await ApiProblem.WriteAsync(ctx, Status(e.Kind), e.Message);
        }
        catch (ApiBodyException e)
        {
            await ApiProblem.WriteAsync(ctx, e.Status, e.Message);
        }
    }

    /// <summary>The request's JSON body as an object, at most <see cref="MaxJsonBody"/> bytes.</summary>
    public static async Task<JsonElement> ReadObjectAsync(HttpContext ctx)
    {
        if (ctx.Request.ContentLength is > MaxJsonBody)
        {
            throw new ApiBodyException(StatusCodes.Status413PayloadTooLarge, $"a JSON body is at most {MaxJsonBody} bytes");
        }

        // Other requests may send 8 KiB; an admin's JSON a little more, and only once the token is checked.
        if (ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxJsonBody;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(chunk, ctx.RequestAborted)) > 0)
        {
            if (buffer.Length + n > MaxJsonBody)
            {
                throw new ApiBodyException(StatusCodes.Status413PayloadTooLarge, $"a JSON body is at most {MaxJsonBody} bytes");
            }

            buffer.Write(chunk, 0, n);
        }

        try
        {
            using var doc = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ApiBodyException(StatusCodes.Status400BadRequest, "the body must be a JSON object");
            }

            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ApiBodyException(StatusCodes.Status400BadRequest, "the body is not JSON: " + e.Message);
        }
    }

    public static int Status(InventoryErrorKind kind) => kind switch
    {
        InventoryErrorKind.NotFound => StatusCodes.Status404NotFound,
        InventoryErrorKind.Conflict => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status400BadRequest,
    };

    public static int Status(StoreErrorKind kind) => kind switch
    {
        StoreErrorKind.Usage => StatusCodes.Status400BadRequest,
        StoreErrorKind.NotFound => StatusCodes.Status404NotFound,
        StoreErrorKind.Conflict => StatusCodes.Status409Conflict,
        StoreErrorKind.Busy => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>"cluster.yaml:4:5: ..." as InventoryYaml names the place of an error ("NAME:4: ..." for some of a layout's).</summary>
    [GeneratedRegex(@"^[^:\s]+:(\d+)(?::(\d+))?: ")]
    private static partial Regex YamlPlace();
}

/// <summary>A request body the API cannot take: its status and why.</summary>
public sealed class ApiBodyException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
