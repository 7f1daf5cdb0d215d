using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Sidus.Server.Metrics;

/// <summary>
/// Listens to Sidus's instruments (the process-wide meters of the store's neighbours and this server's own meter)
/// and keeps, per instrument and label set, the running total of a counter or the last value of a gauge, for
/// /metrics to write. Counters add the increments they hear; observable instruments are read at each scrape.
/// </summary>
public sealed class MetricsCollector : IDisposable
{
    /// <summary>The process-wide meters: instruments added to wherever the event happens.</summary>
    public static readonly string[] SharedMeters = [Wire.Telemetry.WireMetrics.MeterName, ArtifactsMetrics.MeterName, ServerMetrics.EventsMeterName];

    private readonly MeterListener _listener = new();
    private readonly Meter _own;
    private readonly ConcurrentDictionary<Instrument, ConcurrentDictionary<string, long>> _series = new();
    private readonly Lock _scrape = new();

    public MetricsCollector(ServerMetrics own)
    {
        ArgumentNullException.ThrowIfNull(own);
        _own = own.Meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == _own || SharedMeters.Contains(instrument.Meter.Name, StringComparer.Ordinal))
            {
                _series.TryAdd(instrument, new ConcurrentDictionary<string, long>(StringComparer.Ordinal));
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>One instrument's series as of now: its Prometheus name, type, help and (labels, value) pairs.</summary>
    public sealed record Family(string Name, string Type, string Help, IReadOnlyList<(string Labels, long Value)> Samples);

    /// <summary>Reads the observable instruments, then every instrument's series, sorted by name and labels.</summary>
    public IReadOnlyList<Family> Collect()
    {
        lock (_scrape)
        {
            _listener.RecordObservableInstruments();
        }

        return [.. _series.Select(s => new Family(
                IsCounter(s.Key) ? s.Key.Name + "_total" : s.Key.Name,
                IsCounter(s.Key) ? "counter" : "gauge",
                s.Key.Description ?? s.Key.Name,
                [.. s.Value.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => (v.Key, v.Value))]))
            .OrderBy(f => f.Name, StringComparer.Ordinal)];
    }

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (!_series.TryGetValue(instrument, out var series))
        {
            return;
        }

        var labels = PrometheusText.Labels(tags);
        if (instrument is Counter<long>)
        {
            series.AddOrUpdate(labels, value, (_, total) => total + value);
        }
        else
        {
            // Observable counters report their total, gauges their value: the newest reading is the figure.
            series[labels] = value;
        }
    }

    private static bool IsCounter(Instrument instrument) => instrument is Counter<long> or ObservableCounter<long>;
}
