using System.Collections.Concurrent;
using System.Text;
using CortexEdge.Core;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Fleet;

/// <summary>
/// The replication manifest enforced inside the real sync sessions (EdgeDatabase stores, a real
/// mosquitto with a password per node and the shipped ACL): the leader refuses and counts ops of
/// collections nodes may not write; a node never puts local-only collections or fields on the wire
/// (checked on every payload a subscriber on <c>#</c> records, decompressed); a manifest switched
/// to local-only stops a collection leaving at once.
/// </summary>
public sealed class FleetManifestEnforcementTests : IDisposable
{
    private const string Fleet = "plant";
    private const string PiiMarker = "PII-MARKER-7731";
    private const string NotesMarker = "NOTES-MARKER-5521";
    private const string VisibleMarker = "VISIBLE-MARKER-4410";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly SyncSessionOptions Options = new() { SnapshotNewNodes = false, ResponseTimeout = TimeSpan.FromSeconds(2) };
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-fleet-mfe-" + Guid.NewGuid().ToString("N")[..12]);

    public FleetManifestEnforcementTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static ReplicationManifest Manifest(long revision, ReplicationDirection notes) => new(revision,
    [
        new CollectionRule { Name = "config", Direction = ReplicationDirection.Down },
        new CollectionRule { Name = "telemetry", Direction = ReplicationDirection.Both, LocalOnlyFields = ["patientId"] },
        new CollectionRule { Name = "notes", Direction = notes },
    ]);

    [Fact]
    public async Task NodeWritingDownOnlyCollection_RefusedAndCounted_LeaderUnchanged_HonestNodeKeepsSyncing()
    {
        await using LeaderRig fleet = await LeaderRig.StartAsync(_root, Manifest(1, ReplicationDirection.LocalOnly));

        // node-a is compromised: its store ignores the manifest and uploads a write to "config".
        using EdgeDatabase nodeA = fleet.OpenNode("node-a");
        await nodeA.PutAsync("telemetry", "a-1", "{\"temp\":20}");
        await nodeA.PutAsync("config", "setpoint", "{\"value\":999}");
        await nodeA.PutAsync("telemetry", "a-2", "{\"temp\":21}");
        await using (MqttSyncNode syncA = fleet.Node("node-a", new EdgeDatabaseSyncStore(nodeA)))
        {
            var errors = new ConcurrentQueue<SyncEvent>();
            syncA.EventRaised += e => errors.Enqueue(e);
            using var refused = new CancellationTokenSource(Wait);
            Task round = syncA.SyncOnceAsync(SyncScope.All, refused.Token);
            while (!errors.Any(e => e.Code == SyncProtocolErrorCode.CollectionNotWritable))
            {
                await Task.Delay(20, refused.Token); // the node gets the error reply naming the collection
            }

            await refused.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => round);
            Assert.Contains(errors, e => e.Code == SyncProtocolErrorCode.CollectionNotWritable && e.Message.Contains("'config'", StringComparison.Ordinal));
        }

        // Applied up to the refused op, nothing of it or after it.
        Assert.NotNull(fleet.LeaderDb.Get("telemetry", "a-1"));
        Assert.Null(fleet.LeaderDb.Get("config", "setpoint"));
        Assert.Null(fleet.LeaderDb.Get("telemetry", "a-2"));
        Assert.True(fleet.Leader.Session.Counters.OpsRefused >= 1);
        NodeRefusalCounts countsA = fleet.Leader.Session.GetRefusals()["node-a"];
        Assert.Equal(countsA.CollectionNotWritable, countsA.Total);

        // node-b, honest, syncs both ways as if nothing happened.
        using EdgeDatabase nodeB = fleet.OpenNode("node-b");
        await nodeB.PutAsync("telemetry", "b-1", "{\"temp\":19}");
        await fleet.SyncOnceAsync("node-b", nodeB);
        Assert.NotNull(fleet.LeaderDb.Get("telemetry", "b-1"));
        Assert.NotNull(nodeB.Get("telemetry", "a-1"));
        Assert.False(fleet.Leader.Session.GetRefusals().ContainsKey("node-b"));
    }

    [Fact]
    public async Task LocalOnlyFieldAndCollection_NeverOnTheWire_DecompressedPayloadsOfAFullSync()
    {
        await using LeaderRig fleet = await LeaderRig.StartAsync(_root, Manifest(1, ReplicationDirection.LocalOnly));
        using EdgeDatabase nodeB = fleet.OpenNode("node-b");
        for (int index = 0; index < 200; index++)
        {
            // Repetitive documents: the batch is LZ4-compressed on the wire, so only a decoded frame shows its content.
            await nodeB.PutAsync("telemetry", $"t-{index:D3}", $"{{\"temp\":{index % 7},\"patientId\":\"{PiiMarker}\",\"label\":\"{VisibleMarker}\"}}");
        }

        await nodeB.PatchAsync("telemetry", "t-007", $"{{\"patientId\":\"{PiiMarker}-patched\"}}");
        await nodeB.PutAsync("notes", "n-1", $"{{\"text\":\"{NotesMarker}\"}}");
        await nodeB.PutAsync("telemetry", "after-notes", "{\"temp\":5}");

        await using WireRecorder wire = await WireRecorder.StartAsync(fleet.Broker);
        await fleet.SyncOnceAsync("node-b", nodeB);
        using EdgeDatabase nodeC = fleet.OpenNode("node-c");
        await fleet.SyncOnceAsync("node-c", nodeC); // the download direction too
        await wire.WaitUntilSeenAsync(VisibleMarker, Wait); // the recorder does see document content

        Assert.True(wire.UploadFrames > 0 && wire.DownloadFrames > 0);
        Assert.False(wire.Contains(PiiMarker), "a local-only field value went on the wire");
        Assert.False(wire.Contains(NotesMarker), "a local-only collection's document went on the wire");
        Assert.Contains(PiiMarker, nodeB.Get("telemetry", "t-000")!.ToJsonString(), StringComparison.Ordinal); // it stays on the node
        Assert.DoesNotContain("patientId", fleet.LeaderDb.Get("telemetry", "t-000")!.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(fleet.LeaderDb.Get("notes", "n-1"));
        // The withheld ops kept node-b's sequence dense: what it wrote after them arrived everywhere.
        Assert.NotNull(fleet.LeaderDb.Get("telemetry", "after-notes"));
        Assert.NotNull(nodeC.Get("telemetry", "after-notes"));
        Assert.Equal(nodeB.GetVersionVector()[nodeB.ReplicaId], fleet.LeaderDb.GetVersionVector()[nodeB.ReplicaId]);
    }

    [Fact]
    public async Task ManifestSwitchedToLocalOnly_CollectionStopsLeavingTheNodeAtOnce()
    {
        await using LeaderRig fleet = await LeaderRig.StartAsync(_root, Manifest(1, ReplicationDirection.Both));
        using EdgeDatabase nodeB = fleet.OpenNode("node-b");
        await using MqttClient manifestListener = fleet.Client("node-b");
        await manifestListener.ConnectAsync();
        await manifestListener.SubscribeAsync(ManifestChannel.TopicFor(Fleet), MqttQualityOfService.AtLeastOnce);
        var nodeFilter = new ManifestFilter(FleetRole.Node, ReplicationManifest.Default);
        await ApplyNextManifestAsync(manifestListener, nodeFilter);
        await nodeB.PutAsync("notes", "before", "{\"text\":\"shared\"}");
        await fleet.SyncOnceAsync("node-b", nodeB, nodeFilter);
        Assert.NotNull(fleet.LeaderDb.Get("notes", "before"));

        // The operator switches "notes" to local-only; the node takes it from the retained topic, no restart.
        await fleet.PublishManifestAsync(Manifest(2, ReplicationDirection.LocalOnly));
        await ApplyNextManifestAsync(manifestListener, nodeFilter);
        Assert.Equal(2, nodeFilter.Manifest.Revision);
        await nodeB.PutAsync("notes", "after", $"{{\"text\":\"{NotesMarker}\"}}");
        await nodeB.PatchAsync("notes", "before", $"{{\"text\":\"{NotesMarker}\"}}");
        await nodeB.PutAsync("telemetry", "t-1", $"{{\"temp\":1,\"label\":\"{VisibleMarker}\"}}");
        await using WireRecorder wire = await WireRecorder.StartAsync(fleet.Broker);
        await fleet.SyncOnceAsync("node-b", nodeB, nodeFilter);
        await wire.WaitUntilSeenAsync(VisibleMarker, Wait);

        Assert.False(wire.Contains(NotesMarker));
        Assert.Null(fleet.LeaderDb.Get("notes", "after"));
        Assert.Equal("{\"text\":\"shared\"}", fleet.LeaderDb.Get("notes", "before")!.ToJsonString());
        Assert.NotNull(fleet.LeaderDb.Get("telemetry", "t-1"));
        Assert.Equal(0, fleet.Leader.Session.Counters.OpsRefused); // an honest node is never refused
    }

    private static async Task ApplyNextManifestAsync(MqttClient listener, ManifestFilter filter)
    {
        using var timeout = new CancellationTokenSource(Wait);
        while (true)
        {
            MqttMessage message = await listener.Messages.ReadAsync(timeout.Token);
            if (ManifestChannel.TryApply(message, Fleet, filter))
            {
                return;
            }
        }
    }

    /// <summary>A leader over an EdgeDatabase behind mosquitto with the fleet ACL; nodes sync one round at a time.</summary>
    private sealed class LeaderRig : IAsyncDisposable
    {
        private readonly string _root;
        private readonly CancellationTokenSource _stop = new();
        private readonly ManifestFilter _leaderFilter;
        private MqttClient? _publisher;
        private Task? _serving;

        private LeaderRig(string root, MosquittoBroker broker, ReplicationManifest manifest)
        {
            _root = root;
            Broker = broker;
            _leaderFilter = new ManifestFilter(FleetRole.Leader, manifest);
            LeaderDb = EdgeDatabase.Open(Path.Combine(root, "leader"));
            Leader = new MqttSyncLeader(Client("leader"), new EdgeDatabaseLeaderStore(LeaderDb) { Manifest = _leaderFilter }, FleetName, Options);
        }

        public MosquittoBroker Broker { get; }

        public EdgeDatabase LeaderDb { get; }

        public MqttSyncLeader Leader { get; }

        private static string FleetName => FleetManifestEnforcementTests.Fleet;

        public static async Task<LeaderRig> StartAsync(string root, ReplicationManifest manifest)
        {
            MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions
            {
                Users = new Dictionary<string, string> { ["leader"] = "pw-leader", ["node-a"] = "pw-node-a", ["node-b"] = "pw-node-b", ["node-c"] = "pw-node-c" },
                AclLines = File.ReadAllLines(FleetBrokerTests.AclFile()),
            });
            var fleet = new LeaderRig(root, broker, manifest);
            fleet._serving = fleet.Leader.RunAsync(fleet._stop.Token);
            await broker.WaitForSubscriptionAsync($"ce/{FleetName}/pull/+");
            await fleet.PublishManifestAsync(manifest);
            return fleet;
        }

        public MqttClient Client(string user) => new(new MqttClientOptions
        {
            Host = Broker.Host, Port = Broker.Port, ClientId = user + "-" + Guid.NewGuid().ToString("N")[..6], Username = user, Password = "pw-" + user,
            ReconnectDelayMin = TimeSpan.FromMilliseconds(50), ReconnectDelayMax = TimeSpan.FromSeconds(1),
        });

        public EdgeDatabase OpenNode(string node) => EdgeDatabase.Open(Path.Combine(_root, node));

        public MqttSyncNode Node(string node, EdgeDatabaseSyncStore store) => new(Client(node), store, FleetName, node, Options);

        public async Task SyncOnceAsync(string node, EdgeDatabase database, ManifestFilter? filter = null)
        {
            filter ??= new ManifestFilter(FleetRole.Node, _leaderFilter.Manifest);
            await using MqttSyncNode sync = Node(node, new EdgeDatabaseSyncStore(database) { Manifest = filter });
            using var deadline = new CancellationTokenSource(Wait);
            SyncStatus status = await sync.SyncOnceAsync(SyncScope.All, deadline.Token);
            Assert.Equal(0, status.Backlog.TotalOps);
        }

        public async Task PublishManifestAsync(ReplicationManifest manifest)
        {
            _leaderFilter.Update(manifest);
            if (_publisher is null)
            {
                _publisher = Client("leader");
                await _publisher.ConnectAsync();
            }

            await ManifestChannel.PublishAsync(_publisher, FleetName, manifest);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _serving!;
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }

            await Leader.DisposeAsync();
            if (_publisher is not null)
            {
                await _publisher.DisposeAsync();
            }

            LeaderDb.Dispose();
            await Broker.DisposeAsync();
            _stop.Dispose();
        }
    }

    /// <summary>A subscriber on <c>#</c> that records every payload, raw and (for sync frames) decoded and decompressed.</summary>
    private sealed class WireRecorder : IAsyncDisposable
    {
        private readonly MqttClient _client;
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<byte[]> _seen = new();
        private readonly Task _pump;
        private int _uploads;
        private int _downloads;

        private WireRecorder(MqttClient client)
        {
            _client = client;
            _pump = Task.Run(PumpAsync);
        }

        public int UploadFrames => Volatile.Read(ref _uploads);

        public int DownloadFrames => Volatile.Read(ref _downloads);

        public static async Task<WireRecorder> StartAsync(MosquittoBroker broker)
        {
            var client = new MqttClient(new MqttClientOptions { Host = broker.Host, Port = broker.Port, ClientId = "wire-" + Guid.NewGuid().ToString("N")[..6], Username = "leader", Password = "pw-leader" });
            await client.ConnectAsync();
            await client.SubscribeAsync("#", MqttQualityOfService.AtLeastOnce);
            return new WireRecorder(client);
        }

        public bool Contains(string marker)
        {
            byte[] needle = Encoding.UTF8.GetBytes(marker);
            return _seen.Any(bytes => bytes.AsSpan().IndexOf(needle) >= 0);
        }

        public async Task WaitUntilSeenAsync(string marker, TimeSpan timeout)
        {
            using var deadline = new CancellationTokenSource(timeout);
            while (!Contains(marker))
            {
                await Task.Delay(20, deadline.Token);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _pump;
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }

            await _client.DisposeAsync();
            _stop.Dispose();
        }

        private async Task PumpAsync()
        {
            await foreach (MqttMessage message in _client.Messages.ReadAllAsync(_stop.Token))
            {
                _seen.Enqueue(message.Payload.ToArray());
                if (!SyncFrameCodec.TryDecode(message.Payload.Span, null, out SyncFrame? frame, out _))
                {
                    continue;
                }

                IReadOnlyList<SyncOp> ops = frame switch
                {
                    UploadBatchFrame upload => upload.Ops,
                    DownloadBatchFrame download => download.Ops,
                    _ => [],
                };
                if (frame is UploadBatchFrame)
                {
                    Interlocked.Increment(ref _uploads);
                }
                else if (frame is DownloadBatchFrame)
                {
                    Interlocked.Increment(ref _downloads);
                }

                foreach (SyncOp op in ops)
                {
                    _seen.Enqueue(op.Payload.ToArray()); // decompressed op content
                }
            }
        }
    }
}
