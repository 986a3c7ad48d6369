using System.Diagnostics;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Fleet;

/// <summary>The fleet's MQTT parts through RabbitMQ's MQTT plugin (3.1.1) as through mosquitto: presence and its will, the retained manifest, verify.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class FleetRabbitMqTests(RabbitMqFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly RabbitMqBroker _broker = fixture.Broker;

    [Fact]
    public async Task Presence_NodeKilledWithoutDisconnect_OfflineWithinOneAndAHalfKeepAlives()
    {
        string fleet = "rmq" + Guid.NewGuid().ToString("N")[..6];
        TimeSpan keepAlive = TimeSpan.FromSeconds(4);
        await using MqttClient leader = await ConnectAsync(_broker.MqttPort);
        var tracker = new PresenceTracker(fleet);
        using var stop = new CancellationTokenSource();
        Task tracking = tracker.RunAsync(leader, stop.Token);
        await using var relay = new TcpRelay(_broker.Host, _broker.MqttPort);
        await using var node = new MqttClient(new MqttClientOptions
        {
            Host = _broker.Host,
            Port = relay.Port,
            ProtocolVersion = MqttProtocolVersion.V311,
            ClientId = fleet + "-node-a",
            KeepAlive = keepAlive,
            AutoReconnect = false,
            Will = PresencePublisher.CreateWill(fleet, "node-a"),
        });
        await node.ConnectAsync();
        await WaitUntilSubscribedAsync(tracker, leader, fleet);
        Task<NodePresence> online = WaitForAsync(tracker, "node-a", presence => presence.Online);
        await new PresencePublisher(node, fleet, "node-a").PublishAsync(new PresenceReport { Node = "node-a", Online = true, Backlog = 3 });
        await online.WaitAsync(Wait);

        Task<NodePresence> offline = WaitForAsync(tracker, "node-a", presence => !presence.Online);
        var clock = Stopwatch.StartNew();
        relay.AbortAll();
        await offline.WaitAsync(Wait);

        Assert.True(clock.Elapsed < keepAlive * 1.5, $"offline after {clock.Elapsed.TotalSeconds:F1} s, keep-alive {keepAlive.TotalSeconds} s");
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tracking);
    }

    [Fact]
    public async Task Manifest_RetainedOnRabbitMq_NodeGetsItOnSubscribeAndChangesLive()
    {
        string fleet = "rmq" + Guid.NewGuid().ToString("N")[..6];
        await using MqttClient leader = await ConnectAsync(_broker.MqttPort);
        await ManifestChannel.PublishAsync(leader, fleet, new ReplicationManifest(1, [new CollectionRule { Name = "readings", Direction = ReplicationDirection.Up }]));
        await using MqttClient node = await ConnectAsync(_broker.MqttPort);
        var filter = new ManifestFilter(FleetRole.Node, ReplicationManifest.Default);
        await node.SubscribeAsync(ManifestChannel.TopicFor(fleet), MqttQualityOfService.AtLeastOnce);

        Assert.True(ManifestChannel.TryApply(await ReceiveAsync(node), fleet, filter));
        Assert.True(filter.Travels("readings"));
        await ManifestChannel.PublishAsync(leader, fleet, new ReplicationManifest(2, [new CollectionRule { Name = "readings", Direction = ReplicationDirection.LocalOnly }]));
        Assert.True(ManifestChannel.TryApply(await ReceiveAsync(node), fleet, filter));

        Assert.False(filter.Travels("readings"));
    }

    [Fact]
    public async Task Verify_ThroughRabbitMq_NamesExactlyTheDifferingKeys()
    {
        string fleet = "rmq" + Guid.NewGuid().ToString("N")[..6];
        FleetTestSupport.MemorySource leaderState = FleetTestSupport.MemorySource.Create(3_000, seed: 21);
        FleetTestSupport.MemorySource nodeState = leaderState.Clone();
        nodeState.Documents.Remove("doc-000007");
        nodeState.Documents["doc-002000"] = ("{\"changed\":true}", 9);
        await using MqttClient leader = await ConnectAsync(_broker.MqttPort);
        var responder = new MqttAntiEntropyResponder(leader, fleet, collection => collection == "c" ? leaderState : null);
        using var stop = new CancellationTokenSource();
        Task serving = responder.RunAsync(stop.Token);
        await using MqttClient node = await ConnectAsync(_broker.MqttPort);
        // RabbitMQ logs no subscriptions to wait on: retry the first verify until the leader's subscription is in place.
        AntiEntropyReport? report = null;
        for (int attempt = 0; report is null; attempt++)
        {
            try
            {
                report = await MqttAntiEntropyClient.VerifyAsync(node, fleet, "node-a", "c", MerkleDigest.Build(nodeState), TimeSpan.FromSeconds(2));
            }
            catch (TimeoutException) when (attempt < 5)
            {
            }
        }

        Assert.Equal(
            [("doc-000007", KeyDifferenceKind.MissingLocally), ("doc-002000", KeyDifferenceKind.Different)],
            report.Result.DifferingKeys.Select(d => (d.Key, d.Kind)).OrderBy(d => d.Key, StringComparer.Ordinal).ToArray());
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }

    private static async Task<MqttClient> ConnectAsync(int port)
    {
        var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1",
            Port = port,
            ProtocolVersion = MqttProtocolVersion.V311,
            ReconnectDelayMin = TimeSpan.FromMilliseconds(50),
        });
        await client.ConnectAsync();
        return client;
    }

    /// <summary>RabbitMQ logs no subscriptions: probe with a throwaway presence report until the tracker sees it.</summary>
    private static async Task WaitUntilSubscribedAsync(PresenceTracker tracker, MqttClient leader, string fleet)
    {
        var publisher = new PresencePublisher(leader, fleet, "probe");
        for (int attempt = 0; attempt < 100 && !tracker.TryGetNode("probe", out _); attempt++)
        {
            await publisher.PublishAsync(new PresenceReport { Node = "probe", Online = true });
            await Task.Delay(100);
        }

        Assert.True(tracker.TryGetNode("probe", out _), "the tracker never saw its probe through RabbitMQ");
    }

    private static Task<NodePresence> WaitForAsync(PresenceTracker tracker, string node, Func<NodePresence, bool> condition)
    {
        var done = new TaskCompletionSource<NodePresence>(TaskCreationOptions.RunContinuationsAsynchronously);
        tracker.PresenceChanged += (_, presence) =>
        {
            if (presence.Node == node && condition(presence))
            {
                done.TrySetResult(presence);
            }
        };
        if (tracker.TryGetNode(node, out NodePresence? current) && condition(current))
        {
            done.TrySetResult(current);
        }

        return done.Task;
    }

    private static async Task<MqttMessage> ReceiveAsync(MqttClient client)
    {
        using var cts = new CancellationTokenSource(Wait);
        return await client.Messages.ReadAsync(cts.Token);
    }
}
