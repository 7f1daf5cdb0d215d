using Sidus.Store.Objects;
using Sidus.Wire.Nbd;

namespace Sidus.Server.Access;

/// <summary>
/// The NBD exports as nodes may open them: the name is EXPORT!SESSION (<see cref="NodeCredentials.ExportName"/>),
/// and a version's export is opened (and built, when it is not made yet) only for a session of that version, from
/// the node's machine. Nothing is listed: the versions are not told to whoever asks.
/// </summary>
internal sealed class NodeNbdExports(INbdExportSource exports, NodeAccess access) : INbdExportSource
{
    public IReadOnlyList<NbdExportListing> List() => [];

    public ValueTask<NbdOpenResult> OpenAsync(string name, IPEndPoint? client, CancellationToken cancellation)
    {
        var (export, credential) = NodeCredentials.SplitExportName(name);
        if (!ObjectId.TryParse(export, out var version) || version.ToString() != export)
        {
            return ValueTask.FromResult(NbdOpenResult.Unknown($"'{export}' is not a version id (64 lower-case hex digits)"));
        }

        var address = client?.Address is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : client?.Address;
        var decision = access.Check(credential, address, new AccessNeed($"the NBD export of {version.Short}", Version: version));
        return decision.Allowed
            ? exports.OpenAsync(export, client, cancellation)
            : ValueTask.FromResult(new NbdOpenResult(null, NbdReplyType.ErrorPolicy, decision.Reason));
    }
}
