using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Fleet;

/// <summary>
/// Three nodes and a leader that wrote offline converge through RabbitMQ's MQTT plugin (3.1.1,
/// clusterable) exactly as through mosquitto: same final state on every replica, every counter
/// exact, every upload cursor at its node's last op.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class FleetConvergenceTests(RabbitMqFixture fixture)
{
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public Task LeaderAndThreeNodes_ThroughRabbitMq_Converge() =>
        ConvergeAsync(fixture.Broker.Host, fixture.Broker.MqttPort, MqttProtocolVersion.V311, "rmq");

    [Fact]
    public async Task LeaderAndThreeNodes_ThroughMosquitto_Converge()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        await ConvergeAsync(broker.Host, broker.Port, MqttProtocolVersion.V500, "mq");
    }

    private static async Task ConvergeAsync(string host, int port, MqttProtocolVersion version, string prefix)
    {
        int seed = FleetTestSupport.Seed();
        var random = new Random(seed);
        string fleet = prefix + Guid.NewGuid().ToString("N")[..6];
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        MqttClient Client(string id) => new(new MqttClientOptions
        {
            Host = host, Port = port, ProtocolVersion = version, ClientId = fleet + "-" + id,
            ReconnectDelayMin = TimeSpan.FromMilliseconds(50), ReconnectDelayMax = TimeSpan.FromSeconds(1),
        });

        var leaderStore = new MemorySyncStore(0x1EAD, isLeader: true, MemoryDurability.Always);
        var expected = new Dictionary<string, long>();
        void Add(MemorySyncStore store, string key, long amount)
        {
            store.WriteLocal(MemorySyncStore.EncodeAdd(key, amount), now);
            expected[key] = expected.GetValueOrDefault(key) + amount;
        }

        for (int i = 0; i < 50; i++)
        {
            Add(leaderStore, "c" + (i % 5), 1);
        }

        var stores = new MemorySyncStore[3];
        for (int n = 0; n < stores.Length; n++)
        {
            stores[n] = new MemorySyncStore(0xA0 + (ulong)n, isLeader: false, MemoryDurability.Always);
            for (int i = 0; i < 500; i++)
            {
                switch (random.Next(3))
                {
                    case 0: Add(stores[n], "c" + random.Next(5), 1 + random.Next(3)); break;
                    case 1: stores[n].WriteLocal(MemorySyncStore.EncodeDelete("doc" + random.Next(30)), now + i); break;
                    default: stores[n].WriteLocal(MemorySyncStore.EncodeSet("doc" + random.Next(30), $"node{n}-{i}"), now + i); break;
                }
            }
        }

        await using var leader = new MqttSyncLeader(Client("leader"), leaderStore, fleet);
        using var stop = new CancellationTokenSource();
        Task serving = leader.RunAsync(stop.Token);
        var nodes = new MqttSyncNode[3];
        for (int n = 0; n < nodes.Length; n++)
        {
            nodes[n] = new MqttSyncNode(Client("node" + n), stores[n], fleet, "node" + n);
        }

        try
        {
            // Two passes: the first uploads everything, the second brings everyone the others' ops.
            // A pull sent before the leader's subscription exists is retried by the node session.
            for (int pass = 0; pass < 2; pass++)
            {
                foreach (int n in Enumerable.Range(0, nodes.Length).OrderBy(_ => random.Next()))
                {
                    using var deadline = new CancellationTokenSource(RoundTimeout);
                    SyncStatus status = await nodes[n].SyncOnceAsync(SyncScope.All, deadline.Token);
                    Assert.True(status.Backlog.TotalOps == 0, $"seed {seed}: node{n} backlog {status.Backlog.TotalOps} after pass {pass}");
                    Assert.True(status.IsDownloadUpToDate, $"seed {seed}: node{n} not up to date after pass {pass}");
                }
            }

            foreach ((string key, long total) in expected)
            {
                Assert.True(total == leaderStore.CounterTotal(key), $"seed {seed}: counter {key}");
            }

            foreach (MemorySyncStore store in stores)
            {
                Assert.Equal(leaderStore.VisibleState(), store.VisibleState());
                Assert.Equal(store.LastOwnSeq, store.UploadCursor);
            }

            Assert.Equal(0, leader.Session.Counters.MalformedFrames);
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
}
