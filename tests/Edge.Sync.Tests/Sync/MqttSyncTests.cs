using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>The sync protocol over a real mosquitto: a leader and three nodes that wrote offline converge.</summary>
public sealed class MqttSyncTests : IAsyncLifetime
{
    private const string Fleet = "plant7";
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(60);
    private MosquittoBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions { MaxPacketSize = 300 * 1024 });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private MqttClient Client(string id) => new(new MqttClientOptions
    {
        Host = _broker.Host, Port = _broker.Port, ClientId = id,
        ReconnectDelayMin = TimeSpan.FromMilliseconds(50), ReconnectDelayMax = TimeSpan.FromSeconds(1),
    });

    [Fact]
    public async Task LeaderAndThreeNodes_WriteOfflineThenSyncInRandomOrder_ConvergeWithExactCounters()
    {
        int seed = TestEnvironment.Seed();
        var random = new Random(seed);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var leaderStore = new MemorySyncStore(0x1EAD, isLeader: true, MemoryDurability.Always);
        var expected = new Dictionary<string, long>();
        void Add(MemorySyncStore store, string key, long amount, SyncOpFlags flags = SyncOpFlags.None)
        {
            store.WriteLocal(MemorySyncStore.EncodeAdd(key, amount), now, flags);
            expected[key] = expected.GetValueOrDefault(key) + amount;
        }

        for (int i = 0; i < 200; i++)
        {
            Add(leaderStore, "c" + (i % 5), 1);
        }

        var stores = new MemorySyncStore[3];
        for (int n = 0; n < stores.Length; n++)
        {
            stores[n] = new MemorySyncStore(0xA0 + (ulong)n, isLeader: false, MemoryDurability.Always);
            for (int i = 0; i < 3000; i++)
            {
                switch (random.Next(4))
                {
                    case 0: Add(stores[n], "c" + random.Next(5), 1 + random.Next(3), random.Next(10) == 0 ? SyncOpFlags.Priority : SyncOpFlags.None); break;
                    case 1: stores[n].WriteLocal(MemorySyncStore.EncodeDelete("doc" + random.Next(50)), now + i); break;
                    default: stores[n].WriteLocal(MemorySyncStore.EncodeSet("doc" + random.Next(50), $"node{n}-{i}-" + new string('x', random.Next(200))), now + i); break;
                }
            }
        }

        await using var leader = new MqttSyncLeader(Client("leader"), leaderStore, Fleet);
        using var stop = new CancellationTokenSource();
        Task serving = leader.RunAsync(stop.Token);
        await _broker.WaitForSubscriptionAsync($"ce/{Fleet}/pull/+");

        var nodes = new MqttSyncNode[3];
        for (int n = 0; n < nodes.Length; n++)
        {
            nodes[n] = new MqttSyncNode(Client("node" + n), stores[n], Fleet, "node" + n);
        }

        try
        {
            // Two passes in random order: the first uploads everything, the second brings everyone the others' ops.
            for (int pass = 0; pass < 2; pass++)
            {
                foreach (int n in Enumerable.Range(0, nodes.Length).OrderBy(_ => random.Next()))
                {
                    using var deadline = new CancellationTokenSource(RoundTimeout);
                    SyncStatus status = await nodes[n].SyncOnceAsync(SyncScope.All, deadline.Token);
                    Assert.Equal(0, status.Backlog.TotalOps);
                    Assert.True(status.IsDownloadUpToDate, $"seed {seed}: node{n} not up to date after pass {pass}");
                }
            }

            foreach ((string key, long total) in expected)
            {
                Assert.Equal(total, leaderStore.CounterTotal(key));
            }

            foreach (MemorySyncStore store in stores)
            {
                Assert.Equal(leaderStore.VisibleState(), store.VisibleState());
                Assert.Equal(store.LastOwnSeq, store.UploadCursor);
            }

            Assert.Equal(0, leader.Session.Counters.MalformedFrames);
            Assert.True(nodes.Any(n => n.Session.Counters.SnapshotsImported > 0), $"seed {seed}: no node bootstrapped from a snapshot");
        }
        finally
        {
            foreach (MqttSyncNode node in nodes)
            {
                await node.DisposeAsync();
            }

            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
        }
    }

    [Fact]
    public async Task BrokerRestartedMidSync_RoundStillCompletesExactly()
    {
        var leaderStore = new MemorySyncStore(0x1EAD, isLeader: true, MemoryDurability.Always);
        var store = new MemorySyncStore(0xB0, isLeader: false, MemoryDurability.Always);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (int i = 0; i < 20_000; i++)
        {
            store.WriteLocal(MemorySyncStore.EncodeAdd("c", 1), now);
        }

        var options = new SyncSessionOptions { ResponseTimeout = TimeSpan.FromMilliseconds(500), RetryDelay = TimeSpan.FromMilliseconds(100), RetryDelayMax = TimeSpan.FromSeconds(1), SnapshotChunkBytes = 2048, Limits = new SyncFrameLimits { FrameBytesMax = 4096, OpBytesMax = 1024 } };
        await using var leader = new MqttSyncLeader(Client("leader"), leaderStore, Fleet, options);
        using var stop = new CancellationTokenSource();
        Task serving = leader.RunAsync(stop.Token);
        await _broker.WaitForSubscriptionAsync($"ce/{Fleet}/pull/+");
        await using var node = new MqttSyncNode(Client("node"), store, Fleet, "node", options);
        using var deadline = new CancellationTokenSource(RoundTimeout);
        Task<SyncStatus> round = node.SyncOnceAsync(SyncScope.All, deadline.Token);
        while (store.UploadCursor == 0 && !round.IsCompleted)
        {
            await Task.Delay(5);
        }

        await _broker.KillAsync(); // in-flight frames are lost with the broker; the protocol's retries recover
        await _broker.RestartAsync();
        SyncStatus status = await round;
        Assert.Equal(20_000, store.UploadCursor);
        Assert.Equal(20_000, leaderStore.CounterTotal("c"));
        Assert.Equal(20_000, store.CounterTotal("c"));
        Assert.Equal(0, status.Backlog.TotalOps);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }

    [Fact]
    public async Task WatchingNode_ReceivesAnotherNodesWriteThroughTheLeaderWithoutPolling()
    {
        var leaderStore = new MemorySyncStore(0x1EAD, isLeader: true, MemoryDurability.Always);
        await using var leader = new MqttSyncLeader(Client("leader"), leaderStore, Fleet);
        using var stop = new CancellationTokenSource(RoundTimeout);
        Task serving = leader.RunAsync(stop.Token);
        await _broker.WaitForSubscriptionAsync($"ce/{Fleet}/pull/+");
        var a = new MemorySyncStore(0xA, isLeader: false, MemoryDurability.Always);
        var b = new MemorySyncStore(0xB, isLeader: false, MemoryDurability.Always);
        await using var nodeA = new MqttSyncNode(Client("a"), a, Fleet, "a");
        await using var nodeB = new MqttSyncNode(Client("b"), b, Fleet, "b");
        await nodeA.SyncOnceAsync(SyncScope.All, stop.Token);
        var seen = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        nodeB.EventRaised += e =>
        {
            log.Enqueue(e.ToString());
            if (b.CounterTotal("ping") > 0)
            {
                seen.TrySetResult(b.CounterTotal("ping"));
            }
        };
        Task watching = nodeB.RunAsync(stop.Token);
        while (!nodeB.Session.IsIdle)
        {
            await Task.Delay(10);
        }

        a.WriteLocal(MemorySyncStore.EncodeAdd("ping", 1), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await nodeA.SyncOnceAsync(SyncScope.All, stop.Token);
        long total = await seen.Task.WaitAsync(TimeSpan.FromSeconds(20)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : -1);
        Assert.True(total == 1, "b never saw the write: " + string.Join(" | ", log));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }
}
