using Sidus.Wire.Tftp;
using Sidus.Nodes;

namespace Sidus.Server.Inventory;

/// <summary>Records the `tftp` boot stage for every file served to a machine whose MAC the neighbour table knows.</summary>
public sealed class TftpBootEvents(ITftpFileSource inner) : ITftpFileSource
{
    /// <summary>Set once the host is built; downloads before that (during start-up) go unrecorded.</summary>
    public BootEventRecorder? Recorder { get; set; }

    public async ValueTask<TftpOpenResult> OpenAsync(TftpFileRequest request, CancellationToken cancellationToken)
    {
        var result = await inner.OpenAsync(request, cancellationToken);
        if (result.File is not null && Recorder is { } recorder && NeighbourTable.Find(request.Client.Address) is { } mac)
        {
            recorder.Record(new BootEvent(mac, BootStage.Tftp, DateTimeOffset.UtcNow, request.Path));
        }

        return result;
    }
}
