using System.Text;
using System.Text.Json;
using CortexEdge.Sync.Fleet;

namespace CortexEdge.Sync.Tests.Fleet;

public sealed class FleetStatusTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Build_PresenceAndRefusals_OneRowPerNodeWithLagAndCounts()
    {
        var tracker = new PresenceTracker("plant", new FixedTime(Now));
        Observe(tracker, new PresenceReport { Node = "b", Online = true, Backlog = 5, LastSync = Now.AddMinutes(-3), SchemaVersion = 2, BatteryPercent = 40, HeldBack = ["orders"] });
        Observe(tracker, new PresenceReport { Node = "a", Online = false });
        var refusals = new Dictionary<string, NodeRefusalCounts> { ["b"] = new() { Spoofed = 2 }, ["z"] = new() { CollectionNotWritable = 1 } };

        IReadOnlyList<FleetStatusRow> rows = FleetStatus.Build(tracker.GetNodes(), refusals, Now);

        Assert.Equal(["a", "b", "z"], rows.Select(row => row.Node));
        Assert.Equal((true, 5L, 180.0, 2L, 40), (rows[1].Online, rows[1].Backlog, rows[1].LagSeconds!.Value, rows[1].Refused, rows[1].BatteryPercent!.Value));
        Assert.Null(rows[2].LastSeen);

        string table = FleetStatus.RenderTable(rows);
        string[] lines = table.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("NODE", lines[0], StringComparison.Ordinal);
        Assert.Contains("offline", lines[1], StringComparison.Ordinal);
        Assert.Contains("3m", lines[2], StringComparison.Ordinal);
        Assert.Contains("orders", lines[2], StringComparison.Ordinal);
        Assert.Contains("unknown", lines[3], StringComparison.Ordinal);
        Assert.Equal(lines[0].IndexOf("STATE", StringComparison.Ordinal), lines[2].IndexOf("online", StringComparison.Ordinal));

        using JsonDocument json = JsonDocument.Parse(FleetStatus.RenderJson(rows));
        Assert.Equal(3, json.RootElement.GetArrayLength());
        Assert.Equal(2, json.RootElement[1].GetProperty("refused").GetInt64());
        Assert.Equal("orders", json.RootElement[1].GetProperty("heldBack")[0].GetString());
    }

    [Fact]
    public void TryObserve_PresenceNamingAnotherNode_RefusedAndCounted()
    {
        var tracker = new PresenceTracker("plant");

        Assert.True(tracker.TryObserve("ce/plant/presence/a", PresenceCodec.Encode(new PresenceReport { Node = "b", Online = true })));
        Assert.True(tracker.TryObserve("ce/plant/presence/a", Encoding.UTF8.GetBytes("{not json")));
        Assert.False(tracker.TryObserve("ce/plant/up/a", Encoding.UTF8.GetBytes("{}")));

        Assert.Empty(tracker.GetNodes());
        Assert.Equal(2, tracker.RefusedCount);
    }

    [Fact]
    public void PresenceCodec_RandomAndMutatedPayloads_TypedErrorOrReport()
    {
        int seed = FleetTestSupport.Seed();
        var random = new Random(seed);
        byte[] valid = PresenceCodec.Encode(new PresenceReport { Node = "n", Online = true, Backlog = 3, LastSync = Now, HeldBack = ["x"], BatteryPercent = 9 });
        for (int iteration = 0; iteration < FleetTestSupport.FuzzIterations() / 4; iteration++)
        {
            byte[] input = (byte[])valid.Clone();
            input[random.Next(input.Length)] = (byte)random.Next(256);
            if (random.Next(3) == 0)
            {
                input = input.AsSpan(0, random.Next(input.Length + 1)).ToArray();
            }

            try
            {
                Assert.False(string.IsNullOrEmpty(PresenceCodec.Decode(input).Node), $"seed {seed}");
            }
            catch (FleetProtocolException exception)
            {
                Assert.Equal(FleetErrorCode.PresenceMalformed, exception.Code);
            }
            catch (Exception exception)
            {
                Assert.Fail($"seed {seed}, iteration {iteration}: {exception.GetType().Name}: {exception.Message}");
            }
        }
    }

    private static void Observe(PresenceTracker tracker, PresenceReport report) =>
        Assert.True(tracker.TryObserve(PresencePublisher.TopicFor("plant", report.Node), PresenceCodec.Encode(report)));

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
