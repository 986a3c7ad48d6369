using CortexEdge.Core.Documents;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.State;

public sealed class CheckpointerTests : IDisposable
{
    private readonly WalTestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task ReadersHeldOpenDuring100kWrites_WalIsStillCheckpointedAndTrimmed()
    {
        int writeCount = TestRandom.Iterations("CE_CHECKPOINT_WRITES", 100_000);
        await using EdgeDatabase database = EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
        {
            Durability = WalDurability.None,
            WalSegmentBytes = 256 * 1024,
            CheckpointInterval = TimeSpan.FromMilliseconds(50),
            CheckpointRecordCount = 4096,
        });
        for (int i = 0; i < 100; i++)
        {
            await database.PutAsync("c", $"seed/{i:D3}", "{\"v\":0}");
        }

        await database.CheckpointAsync();

        // A SQLite read transaction (a scan mid-way) and a WAL reader (a change feed mid-way), both held throughout.
        using IEnumerator<EdgeDocument> scan = database.Scan("c").GetEnumerator();
        Assert.True(scan.MoveNext());
        using IEnumerator<DocumentChange> feed = database.ReadChanges(1).GetEnumerator();
        Assert.True(feed.MoveNext());

        for (int i = 0; i < writeCount; i++)
        {
            await database.PutAsync("c", $"k/{i}", $"{{\"v\":{i}}}");
        }

        await database.CheckpointAsync();
        EdgeDatabaseStats stats = database.GetStats();
        Assert.Equal(stats.LastLsn, stats.CheckpointLsn);
        Assert.True(stats.CheckpointCount >= 2, $"checkpoints: {stats.CheckpointCount}");
        Assert.True(stats.FirstLsn > writeCount / 2, $"WAL not trimmed: first LSN {stats.FirstLsn} of {stats.LastLsn}");
        Assert.True(stats.WalSegmentCount <= 3, $"{stats.WalSegmentCount} segments remain");
        Assert.Equal(0, stats.OverlayDocumentCount);

        // The held readers still finish: the scan from its snapshot, the feed until its trimmed segment.
        int scanned = 1;
        while (scan.MoveNext())
        {
            scanned++;
        }

        Assert.True(scanned >= 100, $"scan returned {scanned}");
        Assert.Equal($"{{\"v\":{writeCount - 1}}}", database.Get("c", $"k/{writeCount - 1}")!.ToJsonString());
    }

    [Fact]
    public async Task WritesOutpacingTheCheckpointer_WaitForIt_SoMemoryStaysBounded()
    {
        const int LagMax = 200;
        await using EdgeDatabase database = EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
        {
            Durability = WalDurability.None,
            CheckpointInterval = TimeSpan.FromHours(1), // only the lag bound wakes the checkpointer
            CheckpointRecordCount = int.MaxValue,
            CheckpointLagRecordCountMax = LagMax,
        });
        for (int i = 0; i < 3_000; i++)
        {
            await database.PutAsync("c", $"k{i}", "{\"v\":1}");
            EdgeDatabaseStats stats = database.GetStats();
            Assert.True(stats.LastLsn - stats.CheckpointLsn <= LagMax, $"write {i}: lag {stats.LastLsn - stats.CheckpointLsn}");
            Assert.True(stats.OverlayDocumentCount <= LagMax, $"write {i}: overlay {stats.OverlayDocumentCount}");
        }

        Assert.True(database.GetStats().CheckpointCount >= (3_000 / LagMax) - 1, $"checkpoints: {database.GetStats().CheckpointCount}");
        Assert.Equal(3_000, database.Scan("c").Count());
    }

    [Fact]
    public async Task QuotaExceeded_ClearError_ThenUsableAgainAfterCheckpointFreesSpace()
    {
        await using EdgeDatabase database = EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
        {
            Durability = WalDurability.None,
            WalSegmentBytes = 64 * 1024,
            WalQuotaBytes = 4 * 64 * 1024,
            CheckpointInterval = TimeSpan.FromHours(1),
            CheckpointRecordCount = int.MaxValue,
        });
        string payload = "{\"blob\":\"" + new string('x', 500) + "\"}";
        EdgeException? error = null;
        int written = 0;
        for (; written < 10_000 && error is null; written++)
        {
            try
            {
                await database.PutAsync("c", $"k{written}", payload);
            }
            catch (EdgeException exception)
            {
                error = exception;
            }
        }

        Assert.NotNull(error);
        Assert.Equal(EdgeErrorCode.WalQuotaExceeded, error.Code);
        Assert.Contains("quota", error.Message);
        ulong sequenceAtError = database.GetStats().OriginSequence;
        Assert.Equal((ulong)(written - 1), sequenceAtError); // the refused write used no origin sequence

        await database.CheckpointAsync();
        WriteReceipt after = await database.PutAsync("c", "after", payload);
        Assert.Equal(sequenceAtError + 1, after.Header.OriginSequence);
        Assert.NotNull(database.Get("c", "after"));
        Assert.NotNull(database.Get("c", "k0"));
    }
}
