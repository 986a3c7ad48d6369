using System.Diagnostics;
using System.Text;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Fleet;

/// <summary>A real mosquitto with a password per node and the shipped config/mosquitto/fleet.acl.</summary>
public sealed class FleetBrokerTests
{
    private const string Fleet = "plant";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Acl_NodeCannotPublishOnAnotherNodesTopics()
    {
        await using MosquittoBroker broker = await StartBrokerAsync();
        await using MqttClient leader = await ConnectAsync(broker.Port, "leader");
        await leader.SubscribeAsync($"ce/{Fleet}/up/+", MqttQualityOfService.AtLeastOnce);
        await using MqttClient nodeA = await ConnectAsync(broker.Port, "node-a");

        var refused = await Assert.ThrowsAsync<MqttException>(async () =>
            await nodeA.PublishAsync($"ce/{Fleet}/up/node-b", Utf8("spoofed"), MqttQualityOfService.AtLeastOnce));
        Assert.Equal(MqttReasonCode.NotAuthorized, refused.ReasonCode);
        await using MqttClient nodeAAgain = await ConnectAsync(broker.Port, "node-a");
        await nodeAAgain.PublishAsync($"ce/{Fleet}/up/node-a", Utf8("honest"), MqttQualityOfService.AtLeastOnce);

        // The leader sees the honest frame and only it: the spoofed one never reached the broker's subscribers.
        MqttMessage received = await ReceiveAsync(leader);
        Assert.Equal(($"ce/{Fleet}/up/node-a", "honest"), (received.Topic, received.GetPayloadAsString()));
        Assert.True(await NothingReceivedAsync(leader, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Acl_NodeCannotReadAnotherNodesTopics()
    {
        await using MosquittoBroker broker = await StartBrokerAsync();
        await using MqttClient leader = await ConnectAsync(broker.Port, "leader");
        await using MqttClient nodeA = await ConnectAsync(broker.Port, "node-a");
        await using MqttClient nodeB = await ConnectAsync(broker.Port, "node-b");
        await nodeB.SubscribeAsync($"ce/{Fleet}/down/node-b", MqttQualityOfService.AtLeastOnce);
        try
        {
            // mosquitto may grant the subscription and then deliver nothing, or refuse it: both confine node-a.
            await nodeA.SubscribeAsync($"ce/{Fleet}/down/node-b", MqttQualityOfService.AtLeastOnce);
            await nodeA.SubscribeAsync($"ce/{Fleet}/down/+", MqttQualityOfService.AtLeastOnce);
        }
        catch (MqttException exception) when (exception.Code == MqttErrorCode.SubscribeRefused)
        {
            Assert.Equal(MqttReasonCode.NotAuthorized, exception.ReasonCode);
        }

        await leader.PublishAsync($"ce/{Fleet}/down/node-b", Utf8("for b only"), MqttQualityOfService.AtLeastOnce);

        Assert.Equal("for b only", (await ReceiveAsync(nodeB)).GetPayloadAsString());
        Assert.True(await NothingReceivedAsync(nodeA, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Presence_NodeKilledWithoutDisconnect_OfflineWithinOneAndAHalfKeepAlives()
    {
        TimeSpan keepAlive = TimeSpan.FromSeconds(4);
        await using MosquittoBroker broker = await StartBrokerAsync();
        await using MqttClient leader = await ConnectAsync(broker.Port, "leader");
        var tracker = new PresenceTracker(Fleet);
        using var stop = new CancellationTokenSource();
        Task tracking = tracker.RunAsync(leader, stop.Token);
        await broker.WaitForSubscriptionAsync(tracker.TopicFilter);

        await using var relay = new TcpRelay(broker.Host, broker.Port);
        await using MqttClient node = new(new MqttClientOptions
        {
            Host = broker.Host,
            Port = relay.Port,
            ClientId = "node-a",
            Username = "node-a",
            Password = Password("node-a"),
            KeepAlive = keepAlive,
            AutoReconnect = false,
            Will = PresencePublisher.CreateWill(Fleet, "node-a"),
        });
        await node.ConnectAsync();
        var publisher = new PresencePublisher(node, Fleet, "node-a");
        Task<NodePresence> online = WaitForAsync(tracker, "node-a", presence => presence.Online);
        await publisher.PublishAsync(new PresenceReport { Node = "node-a", Online = true, Backlog = 12, SchemaVersion = 2, BatteryPercent = 81, LastSync = DateTimeOffset.UtcNow });
        NodePresence seen = await online.WaitAsync(Wait);
        Assert.Equal((12L, 81), (seen.LastReport.Backlog, seen.LastReport.BatteryPercent));

        Task<NodePresence> offline = WaitForAsync(tracker, "node-a", presence => !presence.Online);
        var clock = Stopwatch.StartNew();
        relay.AbortAll(); // RST on both sides: no DISCONNECT reaches the broker
        await offline.WaitAsync(Wait);
        clock.Stop();

        Assert.True(clock.Elapsed < keepAlive * 1.5, $"offline after {clock.Elapsed.TotalSeconds:F1} s, keep-alive {keepAlive.TotalSeconds} s");
        Assert.False(tracker.GetNodes().Single().Online);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tracking);
    }

    [Fact]
    public async Task Presence_NodeCannotPublishPresenceOfAnotherNode()
    {
        await using MosquittoBroker broker = await StartBrokerAsync();
        await using MqttClient leader = await ConnectAsync(broker.Port, "leader");
        var tracker = new PresenceTracker(Fleet);
        using var stop = new CancellationTokenSource();
        Task tracking = tracker.RunAsync(leader, stop.Token);
        await broker.WaitForSubscriptionAsync(tracker.TopicFilter);
        await using MqttClient nodeA = await ConnectAsync(broker.Port, "node-a");

        await Assert.ThrowsAsync<MqttException>(async () => await nodeA.PublishAsync(PresencePublisher.TopicFor(Fleet, "node-b"),
            PresenceCodec.Encode(new PresenceReport { Node = "node-b", Online = false }), MqttQualityOfService.AtLeastOnce));
        await using MqttClient nodeAAgain = await ConnectAsync(broker.Port, "node-a");
        Task<NodePresence> seen = WaitForAsync(tracker, "node-a", presence => presence.Online);
        await new PresencePublisher(nodeAAgain, Fleet, "node-a").PublishAsync(new PresenceReport { Node = "node-a", Online = true });
        await seen.WaitAsync(Wait);

        Assert.Equal(["node-a"], tracker.GetNodes().Select(node => node.Node));
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tracking);
    }

    [Fact]
    public async Task Manifest_ChangedByLeader_NodeStopsSendingCollectionOnNextOp()
    {
        await using MosquittoBroker broker = await StartBrokerAsync();
        await using MqttClient leader = await ConnectAsync(broker.Port, "leader");
        await ManifestChannel.PublishAsync(leader, Fleet, new ReplicationManifest(1, [new CollectionRule { Name = "readings", Direction = ReplicationDirection.Up }]));
        await using MqttClient node = await ConnectAsync(broker.Port, "node-a");
        var filter = new ManifestFilter(FleetRole.Node, ReplicationManifest.Default);
        await node.SubscribeAsync(ManifestChannel.TopicFor(Fleet), MqttQualityOfService.AtLeastOnce);

        Assert.True(ManifestChannel.TryApply(await ReceiveAsync(node), Fleet, filter)); // the retained manifest arrives on subscribe
        Assert.Equal(ManifestDecision.Send, filter.Filter("readings", Utf8("{\"t\":1}"), new System.Buffers.ArrayBufferWriter<byte>()));

        await ManifestChannel.PublishAsync(leader, Fleet, new ReplicationManifest(2, [new CollectionRule { Name = "readings", Direction = ReplicationDirection.LocalOnly }]));
        Assert.True(ManifestChannel.TryApply(await ReceiveAsync(node), Fleet, filter));

        Assert.Equal(2, filter.Manifest.Revision);
        Assert.Equal(ManifestDecision.Drop, filter.Filter("readings", Utf8("{\"t\":2}"), new System.Buffers.ArrayBufferWriter<byte>()));
    }

    [Fact]
    public async Task Manifest_NodeCannotPublishTheManifest()
    {
        await using MosquittoBroker broker = await StartBrokerAsync();
        await using MqttClient node = await ConnectAsync(broker.Port, "node-a");

        var error = await Assert.ThrowsAsync<MqttException>(async () =>
            await ManifestChannel.PublishAsync(node, Fleet, new ReplicationManifest(99, [new CollectionRule { Name = "config", Direction = ReplicationDirection.Up }])));

        Assert.Equal(MqttReasonCode.NotAuthorized, error.ReasonCode);
    }

    [Fact]
    public async Task Acl_TlsClientCertificatePerNode_IdentityIsTheCertificateName()
    {
        MosquittoTlsMaterial tls = MosquittoTlsMaterial.Shared;
        string directory = Path.Combine(Path.GetTempPath(), "ce-fleet-certs-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        try
        {
            foreach (string node in new[] { "leader", "node-a" })
            {
                MakeNodeCertificate(tls, directory, node);
            }

            await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions
            {
                Tls = tls,
                RequireClientCertificate = true,
                AllowAnonymous = false,
                AclLines = File.ReadAllLines(AclFile()),
                ExtraConfig = ["use_identity_as_username true"],
            });
            MqttClientOptions With(string node) => new()
            {
                Host = broker.Host,
                Port = broker.Port,
                ClientId = node + "-tls",
                ReconnectDelayMin = TimeSpan.FromMilliseconds(50),
                Tls = new MqttTlsOptions { CaFile = tls.CaFile, ClientCertificateFile = Path.Combine(directory, node + ".crt"), ClientKeyFile = Path.Combine(directory, node + ".key") },
            };
            await using var leader = new MqttClient(With("leader"));
            await leader.ConnectAsync();
            await leader.SubscribeAsync($"ce/{Fleet}/up/+", MqttQualityOfService.AtLeastOnce);
            await using var nodeA = new MqttClient(With("node-a"));
            await nodeA.ConnectAsync();

            var refused = await Assert.ThrowsAsync<MqttException>(async () =>
                await nodeA.PublishAsync($"ce/{Fleet}/up/node-b", Utf8("spoofed"), MqttQualityOfService.AtLeastOnce));
            Assert.Equal(MqttReasonCode.NotAuthorized, refused.ReasonCode);
            await using var nodeAAgain = new MqttClient(With("node-a"));
            await nodeAAgain.ConnectAsync();
            await nodeAAgain.PublishAsync($"ce/{Fleet}/up/node-a", Utf8("honest"), MqttQualityOfService.AtLeastOnce);

            MqttMessage received = await ReceiveAsync(leader);
            Assert.Equal(($"ce/{Fleet}/up/node-a", "honest"), (received.Topic, received.GetPayloadAsString()));
            Assert.True(await NothingReceivedAsync(leader, TimeSpan.FromMilliseconds(500)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>One client certificate per node, CN = node id, signed by the test CA (as docs/fleet.md shows).</summary>
    private static void MakeNodeCertificate(MosquittoTlsMaterial tls, string directory, string node)
    {
        string basePath = Path.Combine(directory, node);
        File.WriteAllText(basePath + ".ext", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
        MosquittoBroker.Run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", basePath + ".key", "-out", basePath + ".csr", "-subj", "/CN=" + node);
        MosquittoBroker.Run("openssl", "x509", "-req", "-in", basePath + ".csr", "-CA", tls.CaFile, "-CAkey", Path.Combine(tls.Directory, "ca.key"),
            "-CAcreateserial", "-CAserial", basePath + ".srl", "-out", basePath + ".crt", "-days", "2", "-extfile", basePath + ".ext");
    }

    [Fact]
    public async Task Presence_PublishedAtItsPace_TrackerSeesEachReport()
    {
        await using MosquittoBroker broker = await StartBrokerAsync();
        await using MqttClient leader = await ConnectAsync(broker.Port, "leader");
        var tracker = new PresenceTracker(Fleet);
        using var stop = new CancellationTokenSource();
        Task tracking = tracker.RunAsync(leader, stop.Token);
        await broker.WaitForSubscriptionAsync(tracker.TopicFilter);
        await using MqttClient node = await ConnectAsync(broker.Port, "node-a");
        var publisher = new PresencePublisher(node, Fleet, "node-a");
        var seenBacklogs = new System.Collections.Concurrent.ConcurrentQueue<long>();
        var threeSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tracker.PresenceChanged += (_, presence) =>
        {
            seenBacklogs.Enqueue(presence.LastReport.Backlog);
            if (seenBacklogs.Count >= 3)
            {
                threeSeen.TrySetResult();
            }
        };
        long backlog = 0;

        Task publishing = publisher.RunAsync(() => new PresenceReport { Node = "node-a", Online = true, Backlog = Interlocked.Increment(ref backlog) }, TimeSpan.FromMilliseconds(100), cancellationToken: stop.Token);
        await threeSeen.Task.WaitAsync(Wait);
        stop.Cancel();

        Assert.Equal([1L, 2L, 3L], seenBacklogs.Take(3));
        Assert.True(publisher.PublishedCount >= 3);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publishing);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tracking);
    }

    internal static string AclFile()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "config", "mosquitto", "fleet.acl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("config/mosquitto/fleet.acl not found above " + AppContext.BaseDirectory);
    }

    private static Task<MosquittoBroker> StartBrokerAsync() => MosquittoBroker.StartAsync(new MosquittoBrokerOptions
    {
        Users = new Dictionary<string, string> { ["leader"] = Password("leader"), ["node-a"] = Password("node-a"), ["node-b"] = Password("node-b") },
        AclLines = File.ReadAllLines(AclFile()),
    });

    private static string Password(string user) => "pw-" + user;

    private static async Task<MqttClient> ConnectAsync(int port, string user)
    {
        var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1",
            Port = port,
            ClientId = user + "-" + Guid.NewGuid().ToString("N")[..6],
            Username = user,
            Password = Password(user),
            ReconnectDelayMin = TimeSpan.FromMilliseconds(50),
            ReconnectDelayMax = TimeSpan.FromSeconds(1),
        });
        await client.ConnectAsync();
        return client;
    }

    private static Task<NodePresence> WaitForAsync(PresenceTracker tracker, string node, Func<NodePresence, bool> condition)
    {
        var done = new TaskCompletionSource<NodePresence>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, NodePresence presence)
        {
            if (presence.Node == node && condition(presence) && done.TrySetResult(presence))
            {
                tracker.PresenceChanged -= OnChanged;
            }
        }

        tracker.PresenceChanged += OnChanged;
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

    private static async Task<bool> NothingReceivedAsync(MqttClient client, TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            await client.Messages.WaitToReadAsync(cts.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
