using System.Diagnostics;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Benchmarks.Sync;

/// <summary>
/// The sync protocol: upload throughput and bytes per op, delta vs snapshot bytes, and the same
/// field-edit workload beside Automerge's sync protocol. Transport: in-process (every frame goes
/// through the real codec with LZ4; no broker), stores: <see cref="MemorySyncStore"/>.
/// </summary>
public sealed class SyncBenchmarkSuite : BenchmarkSuite
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    /// <inheritdoc />
    public override string Name => "sync";

    /// <inheritdoc />
    public override string Title => "Sync protocol (node ↔ leader)";

    /// <inheritdoc />
    public override async Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        // Same workload for both: n field edits on `keys` documents, synced from replica A to replica B.
        int edits = Math.Max(1000, (int)(20_000 * scale));
        const int keys = 1000;
        (double ourOpsPerSecond, long ourBytes) = FieldEditsThroughLeader(edits, keys);
        (AutomergeSyncPeer.Result? peer, string? unavailable) = await AutomergeSyncPeer.RunAsync(edits, keys, cancellationToken);
        string workload = $"{edits:N0} field edits on {keys} docs, A -> B";
        if (peer is not null)
        {
            report.Compare($"sync throughput ({workload})", "ops/s", ourOpsPerSecond, $"Automerge {peer.Version} sync protocol", peer.OpsPerSecond, lowerIsBetter: false,
                "ours: A uploads to the leader, B pulls from it (in-process transport, real codec); Automerge: A and B sync directly");
            report.Compare($"bytes exchanged ({workload})", "bytes", ourBytes, $"Automerge {peer.Version} sync protocol", peer.Bytes, lowerIsBetter: true,
                "ours counts both hops (A <-> leader, leader <-> B) including acks and pulls");
        }
        else
        {
            report.Figure($"sync throughput ({workload})", "ops/s", ourOpsPerSecond, "peer unavailable: " + unavailable);
            report.Figure($"bytes exchanged ({workload})", "bytes", ourBytes, "peer unavailable: " + unavailable);
        }

        int uploadOps = Math.Max(10_000, (int)(1_000_000 * scale));
        (double uploadOpsPerSecond, double bytesPerOp) = UploadThroughput(uploadOps);
        report.Figure($"upload throughput ({uploadOps:N0} small ops, backlog -> durable ack)", "ops/s", uploadOpsPerSecond, "target >= 100,000; in-process transport, real codec, LZ4, memory store");
        report.Figure("bytes on the wire per uploaded op", "bytes", bytesPerOp, "upload frames + acks / ops; 16-byte counter payloads");

        int docs = Math.Max(10_000, (int)(100_000 * scale));
        (long deltaBytes, long snapshotBytes) = DeltaVersusSnapshot(docs);
        report.Figure($"catch-up bytes, 1% of {docs:N0} docs changed: delta", "bytes", deltaBytes, "pull + download frames");
        report.Figure($"catch-up bytes, 1% of {docs:N0} docs changed: full snapshot", "bytes", snapshotBytes, "pull + snapshot chunk frames for a new node");
        report.Figure("delta saving vs snapshot", "%", 100.0 * (1 - (deltaBytes / (double)snapshotBytes)), "target >= 95%");
        int bootstrapDocs = Math.Max(5_000, (int)(1_000_000 * scale));
        (double snapshotRows, double logRows, long snapshotWire) = await DatabaseInitialSyncAsync(bootstrapDocs);
        report.Compare($"initial sync over real databases: new node bootstrapping {bootstrapDocs:N0} documents from a snapshot", "rows/s", snapshotRows,
            "the same node bootstrapped from the leader's log", logRows, lowerIsBetter: false,
            $"target >= 100,000 rows/s to a queryable replica (documents scanned after the round); snapshot wire bytes {snapshotWire:N0}; in-process transport, real codec");
        await PropagationLatencyAsync(report, Math.Max(50, (int)(200 * scale)), cancellationToken);
        report.Note("Sync suite transport: in-process (the session state machines exchange encoded frames directly; no MQTT broker), so the figures are the protocol's cost, not the network's. The propagation latency row runs over a real loopback mosquitto (QoS 1).");
    }

    private static async Task PropagationLatencyAsync(BenchmarkReport report, int samples, CancellationToken cancellationToken)
    {
        using LoopbackMosquitto? broker = await LoopbackMosquitto.TryStartAsync();
        if (broker is null)
        {
            report.Note("Propagation latency not measured: mosquitto could not be started.");
            return;
        }

        MqttClient Client(string id) => new(new MqttClientOptions { Host = "127.0.0.1", Port = broker.Port, ClientId = id });
        var leaderStore = new MemorySyncStore(1, isLeader: true, MemoryDurability.Always);
        await using var leader = new MqttSyncLeader(Client("bench-leader"), leaderStore, "bench");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task serving = leader.RunAsync(stop.Token);
        var a = new MemorySyncStore(0xA, isLeader: false, MemoryDurability.Always);
        var b = new MemorySyncStore(0xB, isLeader: false, MemoryDurability.Always);
        await using var nodeA = new MqttSyncNode(Client("bench-a"), a, "bench", "a");
        await using var nodeB = new MqttSyncNode(Client("bench-b"), b, "bench", "b");
        await nodeA.SyncOnceAsync(SyncScope.All, stop.Token);

        // B runs in watch mode; the check of its state happens on its own loop thread (the event), so
        // the store is never touched from two threads.
        var seen = new TaskCompletionSource[samples];
        for (int i = 0; i < samples; i++)
        {
            seen[i] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        int next = 0;
        nodeB.EventRaised += e =>
        {
            while (next < samples && b.CounterTotal("ping") > next)
            {
                seen[next++].TrySetResult();
            }
        };
        Task watching = nodeB.RunAsync(stop.Token);
        var latency = new LatencyRecorder(samples);
        for (int i = 0; i < samples; i++)
        {
            long start = LatencyRecorder.Start();
            a.WriteLocal(MemorySyncStore.EncodeAdd("ping", 1), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), SyncOpFlags.Priority);
            await nodeA.SyncOnceAsync(SyncScope.PriorityOnly, stop.Token);
            await seen[i].Task.WaitAsync(TimeSpan.FromSeconds(30), stop.Token);
            latency.Stop(start);
        }

        report.Figure("propagation latency A -> leader -> B, p50", "ms", latency.P50.TotalMilliseconds, $"{samples} writes, real loopback mosquitto, QoS 1, immediate sync; target p99 < 1000 ms");
        report.Figure("propagation latency A -> leader -> B, p99", "ms", latency.P99.TotalMilliseconds, $"{samples} writes");
        await stop.CancelAsync();
        foreach (Task task in new[] { serving, watching })
        {
            try
            {
                await task;
            }
            catch (OperationCanceledException)
            {
                // stopping is the normal end
            }
        }
    }

    private static (double OpsPerSecond, long Bytes) FieldEditsThroughLeader(int edits, int keys)
    {
        var leaderStore = new MemorySyncStore(1, isLeader: true, MemoryDurability.Always);
        var leader = new LeaderSyncSession(leaderStore, "bench", Now);
        var wire = new InProcessSyncWire(leader, leaderStore.Flush);
        var a = new MemorySyncStore(0xA, isLeader: false, MemoryDurability.Always);
        var b = new MemorySyncStore(0xB, isLeader: false, MemoryDurability.Always);
        var nodeA = new NodeSyncSession(a, "bench", "a");
        var nodeB = new NodeSyncSession(b, "bench", "b");
        wire.Add(nodeA);
        wire.Add(nodeB);
        wire.Run("b", nodeB.RequestSync(SyncScope.All, Now), Now); // b is known and up to date (as Automerge's B starts from A's base)
        for (int i = 0; i < edits; i++)
        {
            a.WriteLocal(MemorySyncStore.EncodeSet("k" + (i % keys), "value-" + i), Now.ToUnixTimeMilliseconds());
        }

        wire.ResetCounters();
        long start = Stopwatch.GetTimestamp();
        wire.Run("a", nodeA.RequestSync(SyncScope.All, Now), Now);
        wire.Run("b", nodeB.RequestSync(SyncScope.All, Now), Now);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (b.VisibleState().Count != keys || a.UploadCursor != edits)
        {
            throw new InvalidOperationException($"benchmark replicas did not converge: b holds {b.VisibleState().Count} keys, a acknowledged {a.UploadCursor} of {edits}");
        }

        return (edits / seconds, wire.BytesUp + wire.BytesDown);
    }

    private static (double OpsPerSecond, double BytesPerOp) UploadThroughput(int ops)
    {
        var leaderStore = new MemorySyncStore(1, isLeader: true, MemoryDurability.Always);
        var leader = new LeaderSyncSession(leaderStore, "bench", Now);
        var wire = new InProcessSyncWire(leader, leaderStore.Flush);
        var node = new MemorySyncStore(0xA, isLeader: false, MemoryDurability.Always);
        var session = new NodeSyncSession(node, "bench", "a");
        wire.Add(session);
        for (int i = 0; i < ops; i++)
        {
            // Priority ops and a priority-only round: the measurement is the upload alone, with no download round.
            node.WriteLocal(MemorySyncStore.EncodeAdd("sensor" + (i % 16), 1), Now.ToUnixTimeMilliseconds() + (i / 100), SyncOpFlags.Priority);
        }

        long start = Stopwatch.GetTimestamp();
        wire.Run("a", session.RequestSync(SyncScope.PriorityOnly, Now), Now);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (node.UploadCursor != ops)
        {
            throw new InvalidOperationException($"upload stopped at {node.UploadCursor} of {ops}");
        }

        return (ops / seconds, (wire.BytesUp + wire.BytesDown) / (double)ops);
    }

    // A leader database with `docs` documents; one new node bootstraps from a snapshot, another from the log.
    private static async Task<(double SnapshotRowsPerSecond, double LogRowsPerSecond, long SnapshotWireBytes)> DatabaseInitialSyncAsync(int docs)
    {
        string root = Path.Combine(Path.GetTempPath(), "ce-bench-snap-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var options = new CortexEdge.Core.EdgeDatabaseOptions { Durability = CortexEdge.Core.Wal.WalDurability.Group(TimeSpan.FromMilliseconds(5)) };
            using CortexEdge.Core.EdgeDatabase leaderDb = CortexEdge.Core.EdgeDatabase.Open(Path.Combine(root, "leader"), options);
            var pending = new List<Task>(1024);
            for (int i = 0; i < docs; i++)
            {
                pending.Add(leaderDb.PutAsync("assets", "doc" + i, $$"""{"i":{{i}},"site":"s{{i % 50}}","t":{{i % 1000}}}""").AsTask());
                if (pending.Count == 1024)
                {
                    await Task.WhenAll(pending);
                    pending.Clear();
                }
            }

            await Task.WhenAll(pending);
            await leaderDb.CheckpointAsync();
            var leaderStore = new EdgeDatabaseLeaderStore(leaderDb);
            void Flush() => leaderDb.FlushAsync().AsTask().GetAwaiter().GetResult();
            double Bootstrap(string name, bool snapshot, out long wireBytes)
            {
                var leader = new LeaderSyncSession(leaderStore, "bench", Now, new SyncSessionOptions { SnapshotNewNodes = snapshot });
                var wire = new InProcessSyncWire(leader, Flush);
                using CortexEdge.Core.EdgeDatabase nodeDb = CortexEdge.Core.EdgeDatabase.Open(Path.Combine(root, name), options);
                var session = new NodeSyncSession(new EdgeDatabaseSyncStore(nodeDb), "bench", name, new SyncSessionOptions { SnapshotNewNodes = snapshot });
                wire.Add(session);
                var clock = Stopwatch.StartNew();
                wire.Run(name, session.RequestSync(SyncScope.All, Now), Now);
                for (int round = 0; round < 10_000 && !session.IsRoundComplete; round++)
                {
                    wire.Run(name, session.Tick(Now + TimeSpan.FromMinutes(round + 1)), Now + TimeSpan.FromMinutes(round + 1));
                }

                int visible = nodeDb.Scan("assets").Count();
                clock.Stop();
                if (visible != docs || (snapshot && session.Counters.SnapshotsImported != 1))
                {
                    throw new InvalidOperationException($"node {name} holds {visible} of {docs} documents after bootstrapping (snapshots imported {session.Counters.SnapshotsImported})");
                }

                wireBytes = wire.BytesDown + wire.BytesUp;
                return docs / clock.Elapsed.TotalSeconds;
            }

            double fromSnapshot = Bootstrap("from-snapshot", snapshot: true, out long snapshotWire);
            double fromLog = Bootstrap("from-log", snapshot: false, out _);
            return (fromSnapshot, fromLog, snapshotWire);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static (long DeltaBytes, long SnapshotBytes) DeltaVersusSnapshot(int docs)
    {
        var leaderStore = new MemorySyncStore(1, isLeader: true, MemoryDurability.Always);
        var leader = new LeaderSyncSession(leaderStore, "bench", Now);
        var wire = new InProcessSyncWire(leader, leaderStore.Flush);
        var random = new Random(42);
        for (int i = 0; i < docs; i++)
        {
            leaderStore.WriteLocal(MemorySyncStore.EncodeSet("doc" + i, $"{{\"t\":{random.Next(1000)},\"site\":\"s{i % 50}\"}}"), Now.ToUnixTimeMilliseconds());
        }

        var old = new MemorySyncStore(0xB, isLeader: false, MemoryDurability.Always);
        var oldNode = new NodeSyncSession(old, "bench", "old");
        wire.Add(oldNode);
        wire.Run("old", oldNode.RequestSync(SyncScope.All, Now), Now);
        for (int i = 0; i < docs / 100; i++)
        {
            leaderStore.WriteLocal(MemorySyncStore.EncodeSet("doc" + random.Next(docs), $"{{\"t\":{random.Next(1000)},\"changed\":true}}"), Now.ToUnixTimeMilliseconds() + 1);
        }

        wire.ResetCounters();
        wire.Run("old", oldNode.RequestSync(SyncScope.All, Now), Now);
        long delta = wire.BytesUp + wire.BytesDown;

        var fresh = new MemorySyncStore(0xC, isLeader: false, MemoryDurability.Always);
        var freshNode = new NodeSyncSession(fresh, "bench", "fresh");
        wire.Add(freshNode);
        wire.ResetCounters();
        wire.Run("fresh", freshNode.RequestSync(SyncScope.All, Now), Now);
        long snapshot = wire.BytesUp + wire.BytesDown;
        if (freshNode.Counters.SnapshotsImported != 1 || !fresh.VisibleState().SequenceEqual(old.VisibleState()))
        {
            throw new InvalidOperationException("the snapshot and the delta paths did not reach the same state");
        }

        return (delta, snapshot);
    }
}
