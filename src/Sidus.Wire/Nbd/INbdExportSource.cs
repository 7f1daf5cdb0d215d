namespace Sidus.Wire.Nbd;

/// <summary>An export a client may name in NBD_OPT_LIST's answer.</summary>
public sealed record NbdExportListing(string Name, string? Description);

/// <summary>The outcome of opening an export: the export, or the reply type and message to refuse with.</summary>
public sealed record NbdOpenResult(NbdExport? Export, NbdReplyType Error, string? Message)
{
    public static NbdOpenResult Unknown(string message) => new(null, NbdReplyType.ErrorUnknown, message);

    public static NbdOpenResult Unavailable(string message) => new(null, NbdReplyType.ErrorPlatform, message);
}

/// <summary>Where the NBD server finds its exports (read-only files); opening may take a while (building one), which
/// the connection awaits without holding a thread.</summary>
public interface INbdExportSource
{
    IReadOnlyList<NbdExportListing> List();

    /// <param name="name">The export name the client sent (it may carry a credential: the source decides).</param>
    /// <param name="client">The client's address, for a source that checks who asks.</param>
    ValueTask<NbdOpenResult> OpenAsync(string name, IPEndPoint? client, CancellationToken cancellation);
}
