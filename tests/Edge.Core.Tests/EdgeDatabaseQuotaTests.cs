using System.Globalization;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests;

/// <summary>
/// The WAL quota with unsent ops (a sync upload hold from the first LSN, as on an offline edge node):
/// droppable collections give up their oldest unsent ops to make room, others get a typed error.
/// </summary>
public sealed class EdgeDatabaseQuotaTests : IDisposable
{
    private const long SegmentBytes = 64 * 1024;
    private const int SegmentCountMax = 4;
    private static readonly string s_payload = "{\"blob\":\"" + new string('x', 500) + "\"}";

    private readonly WalTestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private EdgeDatabase Open() => EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
    {
        Durability = WalDurability.None,
        WalSegmentBytes = SegmentBytes,
        WalQuotaBytes = SegmentCountMax * SegmentBytes,
        CheckpointInterval = TimeSpan.FromHours(1),
        CheckpointRecordCount = int.MaxValue,
        RetainUnsyncedOps = true, // nothing is ever uploaded here: every own op stays unsent
        DroppableCollections = ["telemetry"],
    });

    [Fact]
    public async Task QuotaReached_UnsentOpsAllDroppable_OldestAreDroppedAndCounted_EveryWriteStaysReadable()
    {
        // About 110 records per segment: 2,000 writes need several times the quota.
        int count = 2_000;
        await using (EdgeDatabase database = Open())
        {
            for (int i = 0; i < count; i++)
            {
                await database.PutAsync("telemetry", Key(i), s_payload);
            }

            EdgeDatabaseStats stats = database.GetStats();
            Assert.True(stats.WalUsedBytes <= stats.WalQuotaBytes, $"WAL {stats.WalUsedBytes} bytes over its quota {stats.WalQuotaBytes}");
            long dropped = Assert.Contains("telemetry", stats.DroppedOps);
            Assert.InRange(dropped, 1, count - 1);
            // Own ops 1..n were all telemetry: the dropped ones are exactly the oldest.
            Assert.Equal((ulong)dropped, stats.DroppedOwnSequenceThrough);
            long hold = database.Wal.GetRetentionHolds()[EdgeDatabase.SyncUploadHoldName];
            Assert.Equal(dropped + 1, hold);
            Assert.True(database.Wal.FirstLsn <= hold, $"WAL starts at LSN {database.Wal.FirstLsn}, after the first unsent op kept ({hold})");
            for (int i = 0; i < count; i++)
            {
                Assert.True(database.Get("telemetry", Key(i)) is not null, $"acknowledged write {Key(i)} is not readable");
            }
        }

        // The counts and the moved hold were persisted with the drop.
        await using EdgeDatabase reopened = Open();
        EdgeDatabaseStats reopenedStats = reopened.GetStats();
        long droppedAfterReopen = Assert.Contains("telemetry", reopenedStats.DroppedOps);
        Assert.Equal((ulong)droppedAfterReopen, reopenedStats.DroppedOwnSequenceThrough);
        Assert.Equal(droppedAfterReopen + 1, reopened.Wal.GetRetentionHolds()[EdgeDatabase.SyncUploadHoldName]);
        Assert.NotNull(reopened.Get("telemetry", Key(0)));
        Assert.NotNull(reopened.Get("telemetry", Key(count - 1)));
    }

    [Fact]
    public async Task QuotaReached_OldestUnsentOpNotDroppable_WriteFailsWithQuotaError_NothingDropped()
    {
        await using EdgeDatabase database = Open();
        WriteReceipt alarm = await database.PutAsync("alarms", "door", "{\"open\":true}");
        EdgeException? error = null;
        int written = 0;
        for (; written < 10_000 && error is null; written++)
        {
            try
            {
                await database.PutAsync("telemetry", Key(written), s_payload);
            }
            catch (EdgeException exception)
            {
                error = exception;
            }
        }

        Assert.NotNull(error);
        Assert.Equal(EdgeErrorCode.WalQuotaExceeded, error.Code);
        Assert.Contains("collection 'alarms'", error.Message);
        Assert.Contains("not droppable", error.Message);
        EdgeDatabaseStats stats = database.GetStats();
        Assert.Empty(stats.DroppedOps);
        Assert.Equal(0UL, stats.DroppedOwnSequenceThrough);
        Assert.True(database.Wal.FirstLsn <= alarm.Lsn, "the unsent alarm op left the WAL");
        Assert.Equal((ulong)written, stats.OriginSequence); // the alarm plus the acknowledged telemetry; the refused write took no sequence
        Assert.NotNull(database.Get("alarms", "door"));
        for (int i = 0; i < written - 1; i++)
        {
            Assert.True(database.Get("telemetry", Key(i)) is not null, $"acknowledged write {Key(i)} is not readable");
        }

        // Once the leader has the alarm (sync moves the hold past it), the telemetry behind it may go.
        database.SetPersistentRetentionHold(EdgeDatabase.SyncUploadHoldName, alarm.Lsn + 1);
        await database.PutAsync("telemetry", "after", s_payload);
        Assert.True(database.GetStats().DroppedOps.GetValueOrDefault("telemetry") > 0, "no telemetry op was dropped to make room");
        Assert.NotNull(database.Get("telemetry", "after"));
        Assert.NotNull(database.Get("alarms", "door"));
    }

    private static string Key(int index) => "reading/" + index.ToString(CultureInfo.InvariantCulture);
}
