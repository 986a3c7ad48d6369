using CortexEdge.Agent.Metrics;

namespace CortexEdge.Agent.Tests.Metrics;

public sealed class PrometheusTextWriterTests
{
    [Fact]
    public void Writes_HelpTypeAndEscapedLabels()
    {
        string text = new PrometheusTextWriter()
            .Family("ce_ingest_parse_errors_total", "counter", "Payloads that did not parse")
            .Sample("ce_ingest_parse_errors_total", 3, ("rule", "sensors/+/temp"), ("why", "a \"quoted\"\nline\\"))
            .Family("ce_wal_quota_ratio", "gauge", "WAL bytes / quota")
            .Sample("ce_wal_quota_ratio", 0.25)
            .Sample("ce_wal_quota_ratio", double.NaN, ("x", "y"))
            .ToString();
        Assert.Equal(
            "# HELP ce_ingest_parse_errors_total Payloads that did not parse\n" +
            "# TYPE ce_ingest_parse_errors_total counter\n" +
            "ce_ingest_parse_errors_total{rule=\"sensors/+/temp\",why=\"a \\\"quoted\\\"\\nline\\\\\"} 3\n" +
            "# HELP ce_wal_quota_ratio WAL bytes / quota\n" +
            "# TYPE ce_wal_quota_ratio gauge\n" +
            "ce_wal_quota_ratio 0.25\n" +
            "ce_wal_quota_ratio{x=\"y\"} NaN\n",
            text);
    }

    [Theory]
    [InlineData("9lives")]
    [InlineData("with-dash")]
    [InlineData("")]
    public void Family_InvalidName_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => new PrometheusTextWriter().Family(name, "gauge", "x"));
    }

    [Fact]
    public void Family_DeclaredTwice_Throws()
    {
        var writer = new PrometheusTextWriter().Family("a", "gauge", "x");
        Assert.Throws<ArgumentException>(() => writer.Family("a", "gauge", "x"));
    }
}
