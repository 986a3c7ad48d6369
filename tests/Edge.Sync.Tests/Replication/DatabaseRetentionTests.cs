using CortexEdge.Core;
using CortexEdge.Sync.Replication;

namespace CortexEdge.Sync.Tests.Replication;

/// <summary>The leader's WAL retention for replicas on a real database.</summary>
public sealed class DatabaseRetentionTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-ret-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task SlowReplica_HoldsLeaderWal_UntilBound_ThenReleasedAndNamed()
    {
        await using EdgeDatabase leader = EdgeDatabase.Open(_root, new EdgeDatabaseOptions { WalSegmentBytes = 16 << 10 });
        using var source = new EdgeDatabaseReplicationSource(leader);
        var protocol = new ReplicationLeaderProtocol(source, new ReplicationOptions { RetentionRecordCountMax = 2000 });
        for (int i = 0; i < 50; i++)
        {
            await leader.PutAsync("c", $"k{i}", "{}");
        }

        Assert.True(leader.TryGetRecordCrc(20, out uint crc20));
        var output = new List<OutgoingFrame>();
        protocol.Receive(ReplicationFrameCodec.Encode(new ReplicaStatusFrame(1, "slow", 20, crc20, 20, 0, 0, false)), 0, output);
        Assert.Equal("slow", protocol.RetentionHolder);
        Assert.NotEmpty(output); // it streams from 21

        for (int i = 0; i < 1500; i++)
        {
            await leader.PutAsync("c", $"k{i}", "{\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}");
        }

        await leader.CheckpointAsync();
        Assert.True(leader.Wal.FirstLsn <= 20, $"the held records were trimmed: first LSN {leader.Wal.FirstLsn}");

        // Past the bound, the replica stops holding the log back and will need a snapshot.
        for (int i = 0; i < 1000; i++)
        {
            await leader.PutAsync("c", $"k{i}", "{\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}");
        }

        await leader.FlushAsync();
        protocol.Receive(ReplicationFrameCodec.Encode(new ReplicaStatusFrame(1, "slow", 20, crc20, 20, 0, 0, false)), 1, output);
        Assert.Null(protocol.RetentionHolder);
        await leader.PutAsync("c", "after", "{}");
        await leader.CheckpointAsync();
        Assert.True(leader.Wal.FirstLsn > 20, $"the log was not released: first LSN {leader.Wal.FirstLsn}");
        Assert.False(protocol.GetReplicas().Single().HoldsRetention);
    }
}
