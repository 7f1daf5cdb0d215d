using System.Diagnostics.Metrics;

namespace Sidus.Wire.Telemetry;

/// <summary>
/// What the TFTP and NBD servers count, as System.Diagnostics.Metrics instruments: `sidus serve` exports them at
/// /metrics, and any .NET metrics listener (dotnet-counters, OpenTelemetry) can read them too. Names are the
/// Prometheus ones without the <c>_total</c> a counter gets on export.
/// </summary>
public static class WireMetrics
{
    public const string MeterName = "Sidus.Wire";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>File bytes a TFTP transfer delivered (counted when the client acknowledged the last block).</summary>
    public static readonly Counter<long> TftpBytes =
        Meter.CreateCounter<long>("sidus_tftp_sent_bytes", "bytes", "File bytes delivered by TFTP transfers that completed");

    /// <summary>Export bytes NBD clients read.</summary>
    public static readonly Counter<long> NbdBytes =
        Meter.CreateCounter<long>("sidus_nbd_read_bytes", "bytes", "Export bytes NBD clients read");
}
