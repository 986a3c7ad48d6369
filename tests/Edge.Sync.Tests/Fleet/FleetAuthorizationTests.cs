using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Fleet;

/// <summary>
/// The sync leader behind a mosquitto with a password per node and the shipped ACL: a node cannot
/// publish under another node's topic (the broker refuses), and a frame naming another node on its
/// own topic is refused by the leader with an error reply and a counter; nothing of either is
/// applied, and an honest node keeps syncing.
/// </summary>
public sealed class FleetAuthorizationTests
{
    private const string Fleet = "plant";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SpoofedFrames_RefusedAndCounted_LeaderStateUnchanged_HonestNodeSyncs()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions
        {
            Users = new Dictionary<string, string> { ["leader"] = "pw-leader", ["node-a"] = "pw-a", ["node-b"] = "pw-b" },
            AclLines = File.ReadAllLines(FleetBrokerTests.AclFile()),
        });
        MqttClient Client(string user, string password) => new(new MqttClientOptions
        {
            Host = broker.Host, Port = broker.Port, ClientId = user + "-" + Guid.NewGuid().ToString("N")[..6], Username = user, Password = password,
            ReconnectDelayMin = TimeSpan.FromMilliseconds(50), ReconnectDelayMax = TimeSpan.FromSeconds(1),
        });
        var leaderStore = new MemorySyncStore(0x1EAD, isLeader: true, MemoryDurability.Always);
        await using var leader = new MqttSyncLeader(Client("leader", "pw-leader"), leaderStore, Fleet);
        using var stop = new CancellationTokenSource();
        Task serving = leader.RunAsync(stop.Token);
        await broker.WaitForSubscriptionAsync($"ce/{Fleet}/pull/+");

        // node-a, compromised: listens for its error replies, then tries both kinds of spoofing.
        await using MqttClient attacker = Client("node-a", "pw-a");
        await attacker.ConnectAsync();
        await attacker.SubscribeAsync(SyncTopics.Ack(Fleet, "node-a"), MqttQualityOfService.AtLeastOnce);
        byte[] spoof = SyncFrameCodec.Encode(new UploadBatchFrame
        {
            Fleet = Fleet, Node = "node-b", Sender = 0xB0, Origin = 0xB0, FirstSeq = 1,
            Ops = [new SyncOp(0xB0, 1, SyncOp.PackHlc(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0), SyncOpFlags.None, MemorySyncStore.EncodeAdd("c", 1000))],
        });
        var refusedByBroker = await Assert.ThrowsAsync<MqttException>(async () =>
            await attacker.PublishAsync(SyncTopics.Up(Fleet, "node-b"), spoof, MqttQualityOfService.AtLeastOnce));
        Assert.Equal(MqttReasonCode.NotAuthorized, refusedByBroker.ReasonCode);

        await using MqttClient attackerAgain = Client("node-a", "pw-a");
        await attackerAgain.ConnectAsync();
        await attackerAgain.SubscribeAsync(SyncTopics.Ack(Fleet, "node-a"), MqttQualityOfService.AtLeastOnce);
        await attackerAgain.PublishAsync(SyncTopics.Up(Fleet, "node-a"), spoof, MqttQualityOfService.AtLeastOnce);
        using (var cts = new CancellationTokenSource(Wait))
        {
            MqttMessage reply = await attackerAgain.Messages.ReadAsync(cts.Token);
            var error = Assert.IsType<ErrorFrame>(SyncFrameCodec.Decode(reply.Payload.Span));
            Assert.Equal(SyncProtocolErrorCode.NodeIdentityMismatch, error.Code);
            Assert.Contains("node-b", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, leader.Session.Counters.FramesRefused);
        Assert.Equal(1, leader.Session.GetRefusals()["node-a"].Spoofed); // counted against the node whose topic it came on
        Assert.Equal(0, leaderStore.CounterTotal("c"));

        // The honest node-b syncs as if nothing happened.
        var storeB = new MemorySyncStore(0xB0, isLeader: false, MemoryDurability.Always);
        storeB.WriteLocal(MemorySyncStore.EncodeAdd("c", 5), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await using (var nodeB = new MqttSyncNode(Client("node-b", "pw-b"), storeB, Fleet, "node-b"))
        {
            using var deadline = new CancellationTokenSource(Wait);
            SyncStatus status = await nodeB.SyncOnceAsync(SyncScope.All, deadline.Token);
            Assert.Equal(0, status.Backlog.TotalOps);
        }

        Assert.Equal(5, leaderStore.CounterTotal("c"));
        Assert.Equal(1, leader.Session.Counters.FramesRefused);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }
}
