namespace Sidus.Agent.Fetch;

/// <summary>One line of a version manifest (see Sidus.Store.Serving.ManifestFormat for the format).</summary>
internal sealed record ManifestEntry(
    char Kind,
    uint Mode,
    uint Uid,
    uint Gid,
    long MtimeSeconds,
    uint MtimeNanoseconds,
    long Size,
    byte[]? Content,
    uint LinkGroup,
    uint Major,
    uint Minor,
    byte[] Path,
    byte[]? Target,
    IReadOnlyList<KeyValuePair<byte[], byte[]>> Xattrs);
