namespace Sidus.Wire.Contracts;

/// <summary>
/// The HTTP routes a node agent fetches a version through, each with the node's session (<see cref="NodeCredentials"/>).
/// Every answer is named by a hash and never changes (the server sends <see cref="ImmutableCaching"/> and an ETag):
/// <list type="bullet">
/// <item>GET <see cref="Manifest"/>: the version's <see cref="ManifestFormat"/> (text/plain); the response header
/// <see cref="ManifestHashHeader"/> gives its SHA-256, which the boot script may also pin on the kernel command
/// line (sidus.manifest=HEX).</item>
/// <item>GET <see cref="Content"/>: one file's data, uncompressed; its SHA-256 is the id in the path.</item>
/// <item>GET <see cref="Batch"/>: batch INDEX of the version's <see cref="ContentBatchPlan"/> (a fixed function of
/// the manifest, so the URL always names the same bytes) as <see cref="ContentBatchFrame"/>s, one per content, in
/// order. One request per batch of files, not one per file.</item>
/// <item>POST <see cref="Contents"/>: only the contents a node lacks, by id (<see cref="ContentsRequest"/>), for an
/// update; not cacheable (the body names them).</item>
/// </list>
/// </summary>
public static class ContentRoutes
{
    public const string Manifest = "/api/versions/{version}/manifest";
    public const string Content = "/api/content/{id}";
    public const string Batch = "/api/versions/{version}/batch/" + ContentBatchPlan.Revision + "/{index}";
    public const string Contents = "/api/versions/{version}/contents";
    public const string ManifestHashHeader = "X-Sidus-Manifest-Sha256";
    /// <summary>Private: every answer needs a node's session (docs/node-access.md), so a shared cache must not hand it
    /// to whoever asks; the node's own cache and a cache that checks the credential may keep it forever.</summary>
    public const string ImmutableCaching = "private, max-age=31536000, immutable";

    public static string ManifestOf(string version) => Manifest.Replace("{version}", version, StringComparison.Ordinal);

    public static string ContentsOf(string version) => Contents.Replace("{version}", version, StringComparison.Ordinal);

    public static string ContentOf(string id) => Content.Replace("{id}", id, StringComparison.Ordinal);

    public static string BatchOf(string version, int index) =>
        Batch.Replace("{version}", version, StringComparison.Ordinal).Replace("{index}", index.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>The ETag of batch INDEX of VERSION: what the URL names, quoted.</summary>
    public static string BatchETag(string version, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{version}.{ContentBatchPlan.Revision}.{index}\"");
}
