using System.Net;
using System.Security.Cryptography;
using Sidus.Wire.Nbd;
using Sidus.Wire.Tests.Tftp.Support;

namespace Sidus.Wire.Tests.Nbd.Support;

/// <summary>
/// An NBD server on 127.0.0.1 (ephemeral port) exporting one file of random bytes named <see cref="ExportName"/>,
/// in a private directory removed on dispose.
/// </summary>
internal sealed class NbdTestServer : IAsyncDisposable, INbdExportSource
{
    public const string ExportName = "disk";

    /// <summary>Not a multiple of 512 or of the read chunk, so the last partial block is exercised.</summary>
    public const int ExportLength = (5 * 1024 * 1024) + 4321;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private int _open;

    public NbdTestServer(TimeSpan? handshakeStep = null, Func<NbdServerOptions, NbdServerOptions>? configure = null)
    {
        Directory.CreateDirectory(DirectoryPath);
        Content = RandomNumberGenerator.GetBytes(ExportLength);
        File.WriteAllBytes(FilePath, Content);
        var options = new NbdServerOptions
        {
            Endpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Exports = this,
            HandshakeStepTimeout = handshakeStep ?? TimeSpan.FromSeconds(15),
            ReadChunkLength = 256 * 1024,
        };
        Server = new NbdServer(configure is null ? options : configure(options), Log);
        Server.Start();
        _run = Server.RunAsync(_stop.Token);
    }

    public string DirectoryPath { get; } = Path.Combine(Path.GetTempPath(), "sidus-nbd-" + Guid.NewGuid().ToString("N")[..12]);

    public string FilePath => Path.Combine(DirectoryPath, "disk.img");

    public byte[] Content { get; }

    public NbdServer Server { get; }

    public ListLogger Log { get; } = new();

    public int Port => Server.LocalEndPoint.Port;

    public string Uri => $"nbd://127.0.0.1:{Port}/{ExportName}";

    /// <summary>Exports handed out and not yet closed.</summary>
    public int OpenExports => Volatile.Read(ref _open);

    public IReadOnlyList<NbdExportListing> List() => [new NbdExportListing(ExportName, "random test bytes")];

    public ValueTask<NbdOpenResult> OpenAsync(string name, IPEndPoint? client, CancellationToken cancellation)
    {
        if (name != ExportName)
        {
            return ValueTask.FromResult(NbdOpenResult.Unknown($"no export named '{name}'"));
        }

        Interlocked.Increment(ref _open);
        return ValueTask.FromResult(new NbdOpenResult(NbdExport.OpenFile(name, FilePath, "random test bytes", () => Interlocked.Decrement(ref _open)), NbdReplyType.Ack, null));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(30));
        await Server.DisposeAsync();
        _stop.Dispose();
        Directory.Delete(DirectoryPath, recursive: true);
    }
}
