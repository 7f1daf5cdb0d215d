using System.Text;
using Sidus.Server.Metrics;

namespace Sidus.Server.Tests;

/// <summary>The Prometheus text format as written, byte for byte, with the escapes label values and help need.</summary>
public sealed class PrometheusTextTests
{
    [Fact]
    public void WriteFamily_HelpTypeAndSamples_ExactText()
    {
        var text = new StringBuilder();
        ReadOnlySpan<KeyValuePair<string, object?>> tags = [new("stage", "up"), new("result", "recorded")];
        PrometheusText.WriteFamily(text, "sidus_boot_events_total", "counter", "Boot stages\\reported\nby nodes",
            [(PrometheusText.Labels(tags), 3), (string.Empty, 0)]);
        Assert.Equal(
            "# HELP sidus_boot_events_total Boot stages\\\\reported\\nby nodes\n" +
            "# TYPE sidus_boot_events_total counter\n" +
            "sidus_boot_events_total{result=\"recorded\",stage=\"up\"} 3\n" +
            "sidus_boot_events_total 0\n",
            text.ToString());
    }

    [Fact]
    public void Labels_EscapeQuoteBackslashAndNewline()
    {
        ReadOnlySpan<KeyValuePair<string, object?>> tags = [new("kind", "a\"b\\c\nd")];
        Assert.Equal("kind=\"a\\\"b\\\\c\\nd\"", PrometheusText.Labels(tags));
        Assert.Equal(string.Empty, PrometheusText.Labels([]));
    }
}
