using System.Globalization;
using CortexEdge.Core;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>
/// Ops a node dropped at its WAL quota (droppable collections) over real databases: they leave as
/// withheld placeholders, so the leader's sequence of that origin stays dense, every op that was
/// kept arrives, and sync goes on after the drop, with the store open during it or opened after.
/// </summary>
public sealed class DroppedOpsSyncTests
{
    private const long SegmentBytes = 64 * 1024;
    private static readonly SyncSessionOptions Options = new() { SnapshotNewNodes = false };
    private static readonly string s_payload = "{\"blob\":\"" + new string('x', 500) + "\"}";

    private static EdgeDatabaseOptions QuotaLog() => new()
    {
        Durability = WalDurability.None, // flushed before each sync: uploads wait for durability
        WalSegmentBytes = SegmentBytes,
        WalQuotaBytes = 4 * SegmentBytes,
        CheckpointRecordCount = 64,
        RetainUnsyncedOps = true,
        DroppableCollections = ["telemetry"],
    };

    [Fact]
    public async Task OpsDroppedAtQuota_UploadAsPlaceholders_LeaderGetsEveryKeptOp_AndSyncGoesOn()
    {
        using var harness = new DatabaseSyncHarness(Options);
        DatabaseSyncHarness.Node node = harness.OpenNode("edge", QuotaLog());
        await node.Db.PutAsync("config", "site", """{"name":"north"}""");
        await node.Db.FlushAsync();
        Assert.True(harness.Sync(node));

        // Offline with the store open: it indexes the first writes, then the quota drops them.
        int written = 0;
        written = await WriteTelemetryAsync(node.Db, written, 100);
        Assert.Equal(101, node.Store.LastOwnSeq);
        written = await WriteTelemetryAsync(node.Db, written, 1_400);
        await node.Db.PutAsync("alarms", "door", """{"open":true}""");
        await node.Db.FlushAsync();
        ulong dropped = node.Db.DroppedOwnSequenceThrough;
        Assert.InRange(dropped, 102UL, (ulong)written + 1); // past what the store indexed, short of the alarm

        Assert.True(harness.Sync(node), "the sync round after the drop did not complete");
        Assert.False(node.Session.IsHalted);
        long droppedFirstStretch = AssertLeaderHolds(harness, node, 0, written, droppedBefore: 0);

        // Offline again, then a restart: the store opened after the drop starts from the placeholders.
        int secondFrom = written;
        written = await WriteTelemetryAsync(node.Db, written, 1_500);
        await node.Db.FlushAsync();
        Assert.True(node.Db.DroppedOwnSequenceThrough > dropped, "the second offline stretch dropped nothing");
        node = harness.OpenNode("edge", QuotaLog());
        long own = (long)node.Db.GetVersionVector()[node.Db.ReplicaId];
        SyncBacklog pending = node.Store.GetBacklog(node.Store.UploadCursor, harness.Now);
        Assert.Equal((own - node.Store.UploadCursor, own), (pending.TotalOps, pending.Normal.HighestSeq));
        var first = new List<SyncOp>();
        Assert.Equal(1, node.Store.ReadOwnOps(node.Store.UploadCursor, long.MaxValue, 1, 1 << 20, first));
        Assert.Equal((node.Store.UploadCursor + 1, (byte)WalRecordKind.WithheldOp, 1), (first[0].Seq, first[0].Payload.Span[0], first[0].Payload.Length));
        Assert.NotEqual(0UL, first[0].Hlc);
        Assert.True(harness.Sync(node), "the sync round after reopening did not complete");
        AssertLeaderHolds(harness, node, secondFrom, written, droppedFirstStretch);

        // A write after the drops syncs as usual.
        await node.Db.PutAsync("telemetry", "late", s_payload);
        await node.Db.FlushAsync();
        Assert.True(harness.Sync(node));
        Assert.NotNull(harness.LeaderDb.Get("telemetry", "late"));
        Assert.Equal(node.Db.GetVersionVector()[node.Db.ReplicaId], harness.LeaderDb.GetVersionVector()[node.Db.ReplicaId]);
    }

    // Telemetry writes from..to-1 are at the leader exactly when not dropped; returns the drop count so far.
    // Own sequence 1 is the config put; telemetry write i is sequence i + 2 until the alarm (sequence 1,502).
    private static long AssertLeaderHolds(DatabaseSyncHarness harness, DatabaseSyncHarness.Node node, int from, int to, long droppedBefore)
    {
        EdgeDatabaseStats stats = node.Db.GetStats();
        ulong dropped = stats.DroppedOwnSequenceThrough;
        long droppedCount = stats.DroppedOps.GetValueOrDefault("telemetry");
        ulong own = node.Db.GetVersionVector()[node.Db.ReplicaId];
        Assert.Equal((long)own, node.Store.UploadCursor);
        Assert.Equal(own, harness.LeaderDb.GetVersionVector()[node.Db.ReplicaId]); // dense: every sequence arrived
        Assert.Equal(0, node.Store.GetBacklog(node.Store.UploadCursor, harness.Now).TotalOps);
        Assert.NotNull(harness.LeaderDb.Get("config", "site"));
        Assert.NotNull(harness.LeaderDb.Get("alarms", "door"));
        long absent = 0;
        for (int i = from; i < to; i++)
        {
            ulong seq = (ulong)(i < 1_500 ? i + 2 : i + 3);
            bool atLeader = harness.LeaderDb.Get("telemetry", Key(i)) is not null;
            Assert.True(atLeader == seq > dropped, $"telemetry {Key(i)} (seq {seq}, dropped through {dropped}) at the leader: {atLeader}");
            absent += atLeader ? 0 : 1;
            Assert.NotNull(node.Db.Get("telemetry", Key(i))); // dropped from upload only: still applied locally
        }

        Assert.Equal(droppedCount - droppedBefore, absent);
        return droppedCount;
    }

    private static async Task<int> WriteTelemetryAsync(EdgeDatabase db, int from, int count)
    {
        for (int i = from; i < from + count; i++)
        {
            await db.PutAsync("telemetry", Key(i), s_payload);
        }

        return from + count;
    }

    private static string Key(int index) => "reading/" + index.ToString(CultureInfo.InvariantCulture);
}
