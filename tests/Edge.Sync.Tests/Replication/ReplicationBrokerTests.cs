using CortexEdge.Core;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Replication;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Replication;

/// <summary>Leader and replica databases replicating through a real mosquitto.</summary>
public sealed class ReplicationBrokerTests : IDisposable
{
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(60);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-repl-" + Guid.NewGuid().ToString("N")[..10]);

    public ReplicationBrokerTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static MqttClientOptions Mqtt(MosquittoBroker broker, string id) => new()
    {
        Host = broker.Host,
        Port = broker.Port,
        ClientId = id + "-" + Guid.NewGuid().ToString("N")[..8],
        ReconnectDelayMin = TimeSpan.FromMilliseconds(50),
        ReconnectDelayMax = TimeSpan.FromSeconds(1),
        ReceiveQueueCountMax = 8192,
        OutgoingQueueCountMax = 100_000,
    };

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds:0} s: {describe()}");
            }

            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Replica_StreamsUnderWriteLoad_EndsByteIdenticalWithEqualState()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        await using EdgeDatabase leaderDb = EdgeDatabase.Open(Path.Combine(_root, "leader"));
        await using var leader = new ReplicationLeader(leaderDb, Mqtt(broker, "leader"), "f1");
        await leader.StartAsync();
        await using var follower = new ReplicationFollower(Path.Combine(_root, "replica"), Mqtt(broker, "r1"), "f1", "r1");
        await follower.StartAsync();

        // Sustained writes while the replica streams.
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 750; i++)
            {
                await leaderDb.PutAsync("sensors", $"w{w}-{i % 200}", $"{{\"w\":{w},\"i\":{i},\"pad\":\"{new string('x', i % 50)}\"}}");
            }
        })).ToArray();
        await Task.WhenAll(writers);
        await leaderDb.FlushAsync();
        long end = leaderDb.Wal.LastLsn;
        await WaitUntilAsync(() => follower.Database.Wal.LastLsn >= end, CatchUpTimeout, () => $"replica at {follower.GetStatus()} of leader LSN {end}");

        ReplicationDatabaseAssert.WalIsPrefix(leaderDb, follower.Database);
        ReplicationDatabaseAssert.SameDocuments(leaderDb, follower.Database, "sensors");
        ReplicaStatus status = follower.GetStatus();
        Assert.Equal(ReplicaState.Streaming, status.State);
        Assert.Equal(end, status.AppliedLsn);
        Assert.Equal("r1", leader.GetReplicas().Single().Name);

        // Writes on the replica are refused, naming the leader.
        var refused = await Assert.ThrowsAsync<EdgeException>(async () => await follower.Database.PutAsync("sensors", "x", "{}"));
        Assert.Equal(EdgeErrorCode.WritesFenced, refused.Code);
        Assert.Contains("f1", refused.Message, StringComparison.Ordinal);
        Assert.Contains(broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replica_LeaderPrunedLog_SnapshotThenStream_RestartResumes()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        var dbOptions = new EdgeDatabaseOptions { WalSegmentBytes = 64 << 10, CheckpointInterval = TimeSpan.FromMilliseconds(20) };
        await using EdgeDatabase leaderDb = EdgeDatabase.Open(Path.Combine(_root, "leader"), dbOptions);
        for (int i = 0; i < 3000; i++)
        {
            await leaderDb.PutAsync("docs", $"k{i % 500}", $"{{\"i\":{i}}}");
        }

        await leaderDb.CheckpointAsync();
        await leaderDb.PutAsync("docs", "trigger", "{}"); // a new segment lets the old ones go
        await leaderDb.CheckpointAsync();
        Assert.True(leaderDb.Wal.FirstLsn > 1, $"the leader's log was not pruned (first LSN {leaderDb.Wal.FirstLsn})");

        var protocol = new ReplicationOptions { SnapshotChunkBytes = 8 << 10, SnapshotWindowChunkCountMax = 2 };
        await using var leader = new ReplicationLeader(leaderDb, Mqtt(broker, "leader"), "f2", new ReplicationLeaderOptions { Protocol = protocol });
        await leader.StartAsync();
        string replicaDir = Path.Combine(_root, "replica");

        // First run: stop in the middle of the snapshot transfer.
        await using (var first = new ReplicationFollower(replicaDir, Mqtt(broker, "r2"), "f2", "r2", protocol))
        {
            await first.StartAsync();
            await WaitUntilAsync(() => first.GetStatus().SnapshotBytes > 0 || first.Database.Wal.LastLsn > 0, CatchUpTimeout, () => $"{first.GetStatus()}");
        }

        // Second run resumes (or finishes) and then streams new writes.
        await using var second = new ReplicationFollower(replicaDir, Mqtt(broker, "r2b"), "f2", "r2", protocol);
        await second.StartAsync();
        for (int i = 0; i < 200; i++)
        {
            await leaderDb.PutAsync("docs", $"new{i}", $"{{\"n\":{i}}}");
        }

        await leaderDb.FlushAsync();
        long end = leaderDb.Wal.LastLsn;
        await WaitUntilAsync(() => second.Database.Wal.LastLsn >= end, CatchUpTimeout, () => $"replica {second.GetStatus()} of {end}");
        Assert.True(second.Database.Wal.FirstLsn > 1, "the replica did not start from a snapshot");
        ReplicationDatabaseAssert.WalIsPrefix(leaderDb, second.Database);
        ReplicationDatabaseAssert.SameDocuments(leaderDb, second.Database, "docs");
    }

    [Fact]
    public async Task ReplicaDurableAck_NoReplica_TimesOut_WithReplica_Completes()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        await using EdgeDatabase leaderDb = EdgeDatabase.Open(Path.Combine(_root, "leader"));
        await using var leader = new ReplicationLeader(leaderDb, Mqtt(broker, "leader"), "f3",
            new ReplicationLeaderOptions { AckMode = ReplicationAckMode.ReplicaDurable, AckReplicaCount = 1, AckTimeout = TimeSpan.FromMilliseconds(300) });
        await leader.StartAsync();
        WriteReceipt first = await leaderDb.PutAsync("c", "a", "{\"v\":1}");
        var timeout = await Assert.ThrowsAsync<ReplicationException>(async () => await leader.AcknowledgeAsync(first.Lsn));
        Assert.Equal(ReplicationErrorCode.ReplicaAckTimeout, timeout.Code);
        Assert.Contains("only 0 of the required 1", timeout.Message, StringComparison.Ordinal);

        await using var follower = new ReplicationFollower(Path.Combine(_root, "replica"), Mqtt(broker, "r3"), "f3", "r3",
            databaseOptions: new EdgeDatabaseOptions { Durability = WalDurability.Always });
        await follower.StartAsync();
        WriteReceipt second = await leaderDb.PutAsync("c", "b", "{\"v\":2}");
        var slow = new ReplicationLeaderOptions();
        await WaitUntilAsync(() => leader.GetReplicas().Any(r => r.DurableLsn >= second.Lsn), CatchUpTimeout, () => string.Join(", ", leader.GetReplicas()));
        await leader.AcknowledgeAsync(second.Lsn);
    }

    [Fact]
    public async Task Leader_IdleWithoutReplicas_KeepsOneChannelWaitAcrossTicks()
    {
        // An idle leader ticks every 5 ms; a wait cancelled per tick stayed queued in the client's
        // channel on .NET 9 (the AOT runtime) until a message came, and with no replica none comes:
        // the leader agent grew by ~100 KB/s. The waits started must follow messages, not ticks.
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        await using EdgeDatabase leaderDb = EdgeDatabase.Open(Path.Combine(_root, "leader"));
        await using var leader = new ReplicationLeader(leaderDb, Mqtt(broker, "leader"), "f5");
        await leader.StartAsync();

        await WaitUntilAsync(() => leader.Tick is { Ticks: >= 200 }, CatchUpTimeout, () => $"leader ticked {leader.Tick?.Ticks ?? 0} times");

        // The only messages are the leader's own retained leadership record echoed back (at most a couple).
        Assert.InRange(leader.Tick!.WaitsStarted, 1, 3);
    }

    [Fact]
    public async Task Promote_OldLeaderFenced_CannotAcknowledge_ReplicaRefusesItsStream()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        await using EdgeDatabase oldDb = EdgeDatabase.Open(Path.Combine(_root, "old"));
        await using var oldLeader = new ReplicationLeader(oldDb, Mqtt(broker, "old"), "f4", new ReplicationLeaderOptions { LeaderName = "old" });
        await oldLeader.StartAsync();
        await oldDb.PutAsync("c", "a", "{}");

        // An operator promotes another node: it publishes the retained leadership record at a newer epoch.
        await using (var promoter = new MqttClient(Mqtt(broker, "promote")))
        {
            await promoter.ConnectAsync();
            await promoter.PublishAsync(ReplicationTopics.Leadership("f4"), ReplicationTopics.EncodeLeadership(oldDb.Wal.LogEpoch + 1, "new"), MqttQualityOfService.AtLeastOnce, retain: true);
        }

        await WaitUntilAsync(() => oldLeader.IsFenced, CatchUpTimeout, () => "old leader not fenced");
        WriteReceipt? late = null;
        var refused = await Assert.ThrowsAsync<EdgeException>(async () => late = await oldDb.PutAsync("c", "b", "{}"));
        Assert.Equal(EdgeErrorCode.WritesFenced, refused.Code);
        var notLeader = await Assert.ThrowsAsync<ReplicationException>(async () => await oldLeader.AcknowledgeAsync(1));
        Assert.Equal(ReplicationErrorCode.NotLeader, notLeader.Code);

        // A demoted leader that comes back refuses to start as leader.
        await oldLeader.StopAsync();
        await using var again = new ReplicationLeader(oldDb, Mqtt(broker, "old2"), "f4");
        var start = await Assert.ThrowsAsync<ReplicationException>(() => again.StartAsync());
        Assert.Equal(ReplicationErrorCode.NotLeader, start.Code);
    }
}
