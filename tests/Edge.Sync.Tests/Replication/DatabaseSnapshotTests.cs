using CortexEdge.Core;
using CortexEdge.Core.State;
using CortexEdge.Sync.Replication;

namespace CortexEdge.Sync.Tests.Replication;

/// <summary>Snapshots of real databases through the replication source and replica store (no broker).</summary>
public sealed class DatabaseSnapshotTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-snap-" + Guid.NewGuid().ToString("N")[..10]);

    public DatabaseSnapshotTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task CreateSnapshot_InstallOnReplica_SameDocumentsAndAnchor()
    {
        await using EdgeDatabase leader = EdgeDatabase.Open(Path.Combine(_root, "leader"));
        for (int i = 0; i < 300; i++)
        {
            await leader.PutAsync("docs", $"k{i % 70}", $"{{\"i\":{i}}}");
        }

        using DatabaseSnapshot snapshot = await leader.CreateSnapshotAsync(Path.Combine(_root, "snap.db"));
        Assert.True(snapshot.Lsn > 0);
        Assert.True(snapshot.IsAnchored);
        Assert.True(leader.TryGetRecordCrc(snapshot.Lsn, out uint crc));
        Assert.Equal(crc, snapshot.AnchorCrc);

        string replicaDir = Path.Combine(_root, "replica");
        var store = new EdgeDatabaseReplicaStore(replicaDir, "test leader");
        byte[] buffer = new byte[4096];
        for (long offset = 0; offset < snapshot.LengthBytes;)
        {
            int read = snapshot.Read(offset, buffer);
            Assert.True(store.TryStageSnapshotChunk(7, offset, buffer.AsSpan(0, read)));
            offset += read;
        }

        Assert.Equal(snapshot.Checksum, store.StagedSnapshotChecksum);
        store.InstallStagedSnapshot(snapshot.Lsn, snapshot.AnchorCrc, 1);
        Assert.Equal(snapshot.Lsn, store.LastLsn);
        Assert.True(store.TryGetCrc(snapshot.Lsn, out uint anchor));
        Assert.Equal(snapshot.AnchorCrc, anchor);
        ReplicationDatabaseAssert.SameDocuments(leader, store.Database, "docs");
        store.Dispose();

        // Reopened: the anchor is still known (it lives in the replica's state).
        using var reopened = new EdgeDatabaseReplicaStore(replicaDir, "test leader");
        Assert.Equal(snapshot.Lsn, reopened.LastLsn);
        Assert.True(reopened.TryGetCrc(snapshot.Lsn, out uint again));
        Assert.Equal(snapshot.AnchorCrc, again);
    }
}
