using Sidus.Wire.Tftp;

namespace Sidus.Server.Hosting;

/// <summary>TFTP: the iPXE binaries (and an optional root directory) for machines whose firmware starts the boot.</summary>
public sealed class TftpListener(TftpSettings settings, LimitsSettings limits, ITftpFileSource files, ILogger logger) : IBootListener
{
    private readonly TftpServer _server = new(
        new TftpServerOptions
        {
            Endpoint = new IPEndPoint(settings.Listen, settings.Port),
            FileSource = files,
            RootDirectory = settings.Root,
            MaxSessionsPerSource = limits.TftpTransfersPerSource,
            RequestsPerSecondPerSource = limits.TftpRequestsPerSecond,
            RequestBurstPerSource = Math.Max(1, 2 * limits.TftpRequestsPerSecond),
        },
        logger);

    public string Name => "TFTP";

    public bool Essential => true;

    public IPEndPoint LocalEndPoint => _server.LocalEndPoint;

    public int ActiveTransfers => _server.ActiveTransfers;

    public void Bind()
    {
        if (settings.Root is not null && !Directory.Exists(settings.Root))
        {
            throw new ServeConfigException($"TFTP root {settings.Root} does not exist: create it or remove [tftp] root");
        }

        try
        {
            _server.Start();
        }
        catch (SocketException e)
        {
            throw ListenerErrors.Bind(e, "TFTP", ProtocolType.Udp, settings.Listen, settings.Port, "tftpd-hpa, dnsmasq or another sidus serve?", "--tftp-port", "--no-tftp");
        }
    }

    public Task RunAsync(CancellationToken stopping) => _server.RunAsync(stopping);

    public string Describe() =>
        string.Create(CultureInfo.InvariantCulture, $"tftp on {_server.LocalEndPoint}: {_server.ActiveTransfers} transfers running");

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
