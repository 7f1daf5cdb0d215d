using System.Diagnostics.Metrics;
using Sidus.Server.Dhcp;
using Sidus.Server.Hosting;

namespace Sidus.Server.Metrics;

/// <summary>
/// The server's instruments (System.Diagnostics.Metrics). Counters that code anywhere in the server adds to are
/// static, on the <see cref="EventsMeterName"/> meter: boot events by stage and result, HTTP answers and their bytes
/// by kind. What is read from this server's own listeners (DHCP packets, connections refused, TFTP transfers, NBD
/// connections and exports) is observed on a meter of its own, so two servers in one process (as in the tests)
/// never mix their figures. Names are the Prometheus ones; a counter gets <c>_total</c> when exported. No label ever
/// holds a MAC or an IP address: the label values are the fixed sets below.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    public const string EventsMeterName = "Sidus.Server";

    private static readonly Meter Events = new(EventsMeterName);

    private static readonly Counter<long> BootEventCounter = Events.CreateCounter<long>(
        "sidus_boot_events", null, "Boot stages reported (by nodes, and by the server for dhcp, tftp, script and kernel), by stage and result (recorded, or dropped when the writer was full)");

    private static readonly Counter<long> HttpResponses = Events.CreateCounter<long>(
        "sidus_http_responses", null, "HTTP answers by kind of resource and status class");

    private static readonly Counter<long> HttpBytes = Events.CreateCounter<long>(
        "sidus_http_sent_bytes", "bytes", "Bytes of HTTP answers sent in full, by kind of resource");

    public ServerMetrics(ServerState state, ConnectionLimits limits, ErofsExports exports)
    {
        Meter = new Meter("Sidus.Server.Listeners");
        Meter.CreateObservableCounter("sidus_dhcp_received_packets", () => Dhcp(state, s => s.Received), null, "DHCP packets received");
        Meter.CreateObservableCounter("sidus_dhcp_dropped_packets", () => DhcpDrops(state), null, "DHCP packets dropped, by reason: malformed (did not decode) or ignored (not for us, or refused)");
        Meter.CreateObservableCounter("sidus_dhcp_sent_replies", () => Dhcp(state, s => s.Replies), null, "DHCP replies sent (offers, acks, naks)");
        Meter.CreateObservableCounter("sidus_dhcp_committed_leases", () => Dhcp(state, s => s.Commits), null, "DHCP exchanges completed with a lease committed (ACK)");
        Meter.CreateObservableCounter("sidus_connections_refused", () => new[]
        {
            new Measurement<long>(limits.Http.Refused, new KeyValuePair<string, object?>("service", "http")),
            new Measurement<long>(limits.Nbd.Refused, new KeyValuePair<string, object?>("service", "nbd")),
        }, null, "TCP connections closed on accept because a limit was reached, by service");
        Meter.CreateObservableGauge("sidus_tftp_active_transfers", () => (long)(state.Tftp?.ActiveTransfers ?? 0), null, "TFTP transfers running now");
        Meter.CreateObservableGauge("sidus_nbd_connections", () => (long)(state.Nbd?.ActiveConnections ?? 0), null, "NBD clients connected now");
        Meter.CreateObservableGauge("sidus_exports", () => (long)(state.Nbd is null ? 0 : exports.Status().Count()), null, "Erofs exports NBD serves (one per version booted in shared or ram mode)");
        Meter.CreateObservableGauge("sidus_export_bytes", () => state.Nbd is null ? 0 : exports.Status().Sum(e => e.Size), "bytes", "Disk space of the exports NBD serves");
    }

    /// <summary>This server's own meter (its listeners' figures).</summary>
    public Meter Meter { get; }

    /// <summary>A boot stage recorded (or dropped: the event writer's queue was full).</summary>
    public static void BootEvent(BootStage stage, bool recorded) =>
        BootEventCounter.Add(1, new KeyValuePair<string, object?>("stage", stage.ToText()), new KeyValuePair<string, object?>("result", recorded ? "recorded" : "dropped"));

    /// <summary>An HTTP answer of KIND with STATUS, and BYTES of it sent.</summary>
    public static void HttpAnswered(string kind, int status, long bytes)
    {
        var kindTag = new KeyValuePair<string, object?>("kind", kind);
        HttpResponses.Add(1, kindTag, new KeyValuePair<string, object?>("code", $"{status / 100}xx"));
        if (bytes > 0)
        {
            HttpBytes.Add(bytes, kindTag);
        }
    }

    public void Dispose() => Meter.Dispose();

    private static long Dhcp(ServerState state, Func<Sidus.Wire.Dhcp.DhcpServerStatistics, long> figure) =>
        state.DhcpStatistics().Sum(figure);

    private static Measurement<long>[] DhcpDrops(ServerState state)
    {
        var all = state.DhcpStatistics().ToList();
        return
        [
            new(all.Sum(s => s.Malformed), new KeyValuePair<string, object?>("reason", "malformed")),
            new(all.Sum(s => s.Ignored), new KeyValuePair<string, object?>("reason", "ignored")),
        ];
    }
}
