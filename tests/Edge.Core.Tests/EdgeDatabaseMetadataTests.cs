using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests;

public sealed class EdgeDatabaseMetadataTests : IDisposable
{
    private readonly WalTestDirectory _directory = new();

    // Small segments and frequent checkpoints, so trimming happens within a test.
    private EdgeDatabase Open(bool retainUnsyncedOps = false) => EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
    {
        Durability = WalDurability.None,
        WalSegmentBytes = 64 * 1024,
        CheckpointRecordCount = 64,
        RetainUnsyncedOps = retainUnsyncedOps,
    });

    public void Dispose() => _directory.Dispose();

    private static async Task WriteAsync(EdgeDatabase database, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await database.PutAsync("c", "k" + i, $$"""{"i":{{i}},"pad":"{{new string('p', 80)}}"}""");
        }

        await database.CheckpointAsync();
    }

    [Fact]
    public void Metadata_PersistsAcrossReopen_ByPrefixInNameOrder_AndConsumesNoOriginSequence()
    {
        using (EdgeDatabase database = Open())
        {
            Assert.Null(database.GetMetadata("sync.a"));
            database.SetMetadata("sync.b", "2");
            database.SetMetadata([new("sync.a", "1"), new("other", "x"), new("sync.b", "3")]);
            Assert.Equal("3", database.GetMetadata("sync.b"));
            Assert.Equal(0UL, database.GetStats().OriginSequence);
            Assert.Equal(0, database.Wal.LastLsn);
        }

        using EdgeDatabase reopened = Open();
        Assert.Equal([new("sync.a", "1"), new("sync.b", "3")], reopened.GetMetadataByPrefix("sync."));
        Assert.Equal("x", reopened.GetMetadata("other"));
    }

    [Fact]
    public async Task PersistentRetentionHold_IsReappliedOnOpen_BeforeAnythingIsTrimmed()
    {
        using (EdgeDatabase database = Open())
        {
            database.SetPersistentRetentionHold("keep", 1);
            await WriteAsync(database, 2000);
            Assert.Equal(1, database.Wal.FirstLsn);
        }

        using (EdgeDatabase reopened = Open())
        {
            await WriteAsync(reopened, 500);
            Assert.Equal(1, reopened.Wal.FirstLsn);
            Assert.Equal("1", reopened.GetMetadata(EdgeDatabase.RetentionHoldPrefix + "keep"));

            reopened.SetPersistentRetentionHold("keep", reopened.Wal.LastLsn);
            await WriteAsync(reopened, 10);
            Assert.True(reopened.Wal.FirstLsn > 1);
        }
    }

    [Fact]
    public async Task RetainUnsyncedOps_KeepsOwnOpsFromTheFirstOpen_WithoutItTheyAreTrimmed()
    {
        using (EdgeDatabase retained = Open(retainUnsyncedOps: true))
        {
            await WriteAsync(retained, 2000);
            Assert.Equal(1, retained.Wal.FirstLsn);
            Assert.Equal("1", retained.GetMetadata(EdgeDatabase.RetentionHoldPrefix + EdgeDatabase.SyncUploadHoldName));
        }

        _directory.Dispose();
        using EdgeDatabase plain = Open();
        await WriteAsync(plain, 2000);
        Assert.True(plain.Wal.FirstLsn > 1);
    }
}
