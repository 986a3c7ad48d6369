using System.Globalization;
using CortexEdge.Agent.Metrics;
using CortexEdge.Core;
using CortexEdge.Core.Wal;

namespace CortexEdge.Agent.Tests.Metrics;

public sealed class AgentMetricsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ce-metrics-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Render_CountsOpsDroppedAtTheWalQuota_PerCollection()
    {
        const long segmentBytes = 64 * 1024;
        await using EdgeDatabase database = EdgeDatabase.Open(_directory, new EdgeDatabaseOptions
        {
            Durability = WalDurability.None,
            WalSegmentBytes = segmentBytes,
            WalQuotaBytes = 4 * segmentBytes,
            RetainUnsyncedOps = true, // an edge node that never reached its leader
            DroppableCollections = ["telemetry"],
        });
        var metrics = new AgentMetrics(database);
        Assert.Contains("# TYPE ce_wal_dropped_ops_total counter", metrics.Render());
        Assert.DoesNotContain("ce_wal_dropped_ops_total{", metrics.Render());

        string payload = "{\"blob\":\"" + new string('x', 500) + "\"}";
        for (int i = 0; i < 1_000; i++)
        {
            await database.PutAsync("telemetry", i.ToString(CultureInfo.InvariantCulture), payload);
        }

        long dropped = database.GetStats().DroppedOps.GetValueOrDefault("telemetry");
        Assert.True(dropped > 0, "nothing was dropped at the quota");
        Assert.Contains($"ce_wal_dropped_ops_total{{collection=\"telemetry\"}} {dropped}\n", metrics.Render());
    }
}
