using System.Diagnostics.Metrics;

namespace Sidus.Artifacts;

/// <summary>
/// What is built from versions, counted as System.Diagnostics.Metrics instruments (exported by `sidus serve` at
/// /metrics): builds by kind (<c>export</c>, <c>initramfs</c>) and result (<c>built</c>, <c>cached</c>,
/// <c>failed</c>).
/// </summary>
public static class ArtifactsMetrics
{
    public const string MeterName = "Sidus.Artifacts";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Builds =
        Meter.CreateCounter<long>("sidus_artifact_builds", null, "Boot artifacts asked for a version, by kind and result (built now, found cached, failed)");

    public static void Built(string kind, string result) =>
        Builds.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", result));
}
