namespace Sidus.Store.Serving;

/// <summary>
/// The HTTP routes a node agent uses to fetch a version. All answers are immutable (named by a hash), so any HTTP
/// cache may keep them.
/// <list type="bullet">
/// <item>GET <see cref="Manifest"/>: the version's <see cref="ManifestFormat"/> (text/plain); the response header
/// <see cref="ManifestHashHeader"/> gives its SHA-256, which the boot script may also pin on the kernel command
/// line (sidus.manifest=HEX).</item>
/// <item>GET <see cref="Content"/>: one file's data, uncompressed; its SHA-256 is the id in the path.</item>
/// <item>POST <see cref="ContentBatch"/>: body = content ids in hex, one per line (at most
/// <see cref="ContentServer.MaxBatchIds"/>); answer = for each id in order: 32-byte id, 8-byte big-endian length,
/// the data (application/octet-stream). One request per batch of files, not one per file.</item>
/// </list>
/// </summary>
public static class ServingRoutes
{
    public const string Manifest = "/api/versions/{version}/manifest";
    public const string Content = "/api/content/{id}";
    public const string ContentBatch = "/api/content/batch";
    public const string ManifestHashHeader = "X-Sidus-Manifest-Sha256";
}
