using Sidus.Wire.Tftp;

namespace Sidus.Server.Inventory;

/// <summary>Records the `tftp` boot stage for every file served to a machine whose MAC the neighbour table knows.</summary>
public sealed class TftpBootEvents(ITftpFileSource inner, BootEventRecorder recorder) : ITftpFileSource
{
    public async ValueTask<TftpOpenResult> OpenAsync(TftpFileRequest request, CancellationToken cancellationToken)
    {
        var result = await inner.OpenAsync(request, cancellationToken);
        if (result.File is not null && NeighbourTable.Find(request.Client.Address) is { } mac)
        {
            recorder.Record(new BootEvent(mac, BootStage.Tftp, DateTimeOffset.UtcNow, request.Path));
        }

        return result;
    }
}
