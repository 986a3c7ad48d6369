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
        DatabaseSyncFigures real = await DatabaseSyncAsync(bootstrapDocs);
        report.Compare($"initial sync over real databases: new node bootstrapping {bootstrapDocs:N0} documents from a snapshot", "rows/s", real.SnapshotRowsPerSecond,
            "the same node bootstrapped from the leader's log", real.LogRowsPerSecond, lowerIsBetter: false,
            "target >= 100,000 rows/s to a queryable replica (the documents are scanned back before the clock stops); in-process transport, real codec, EdgeDatabase stores");
        report.Figure($"catch-up over real databases: a node {real.CatchUpOps:N0} ops behind", "ops/s", real.CatchUpOpsPerSecond, "deltas from the leader's log to the node's database, durable");
        report.Compare($"catch-up bytes over real databases, 1% of {bootstrapDocs:N0} docs changed: delta", "bytes", real.DeltaBytes,
            "full snapshot of the same database", real.SnapshotBytes, lowerIsBetter: true,
            $"saving {100.0 * (1 - (real.DeltaBytes / (double)real.SnapshotBytes)):F1}% (target >= 95%); the snapshot is the one the new node received before the change");
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

    // Over real databases: a leader with `docs` documents; one new node bootstraps from a snapshot,
    // another from the log; then 1% of the documents change (delta bytes vs the snapshot's), and the
    // log-bootstrapped node catches up `docs` more ops.
    private static async Task<DatabaseSyncFigures> DatabaseSyncAsync(int docs)
    {
        string root = Path.Combine(Path.GetTempPath(), "ce-bench-snap-" + Guid.NewGuid().ToString("N")[..12]);
        var options = new CortexEdge.Core.EdgeDatabaseOptions { Durability = CortexEdge.Core.Wal.WalDurability.Group(TimeSpan.FromMilliseconds(5)) };
        var databases = new List<CortexEdge.Core.EdgeDatabase>();
        try
        {
            CortexEdge.Core.EdgeDatabase leaderDb = CortexEdge.Core.EdgeDatabase.Open(Path.Combine(root, "leader"), options);
            databases.Add(leaderDb);
            await WriteDocumentsAsync(leaderDb, docs, i => $$"""{"i":{{i}},"site":"s{{i % 50}}","t":{{i % 1000}}}""");
            await leaderDb.CheckpointAsync();
            var leaderStore = new EdgeDatabaseLeaderStore(leaderDb);
            void Flush() => leaderDb.FlushAsync().AsTask().GetAwaiter().GetResult();
            var tick = Now;

            (NodeSyncSession Session, CortexEdge.Core.EdgeDatabase Db, InProcessSyncWire Wire) OpenNode(string name, bool snapshot)
            {
                var sessionOptions = new SyncSessionOptions { SnapshotNewNodes = snapshot };
                var wire = new InProcessSyncWire(new LeaderSyncSession(leaderStore, "bench", Now, sessionOptions), Flush);
                CortexEdge.Core.EdgeDatabase db = CortexEdge.Core.EdgeDatabase.Open(Path.Combine(root, name), options);
                databases.Add(db);
                var session = new NodeSyncSession(new EdgeDatabaseSyncStore(db), "bench", name, sessionOptions);
                wire.Add(session);
                return (session, db, wire);
            }

            void Round((NodeSyncSession Session, CortexEdge.Core.EdgeDatabase Db, InProcessSyncWire Wire) node)
            {
                node.Wire.ResetCounters();
                node.Wire.Run(node.Session.NodeName, node.Session.RequestSync(SyncScope.All, tick), tick);
                for (int round = 0; round < 10_000 && !node.Session.IsRoundComplete; round++)
                {
                    tick += TimeSpan.FromMinutes(1);
                    node.Wire.Run(node.Session.NodeName, node.Session.Tick(tick), tick);
                }
            }

            double Bootstrap((NodeSyncSession Session, CortexEdge.Core.EdgeDatabase Db, InProcessSyncWire Wire) node, bool snapshot)
            {
                var clock = Stopwatch.StartNew();
                Round(node);
                int visible = node.Db.Scan("assets").Count(); // queryable: the rows are read back
                clock.Stop();
                if (visible != docs || (snapshot && node.Session.Counters.SnapshotsImported != 1))
                {
                    throw new InvalidOperationException($"node {node.Session.NodeName} holds {visible} of {docs} documents after bootstrapping (snapshots imported {node.Session.Counters.SnapshotsImported})");
                }

                return docs / clock.Elapsed.TotalSeconds;
            }

            var fromSnapshot = OpenNode("from-snapshot", snapshot: true);
            double snapshotRows = Bootstrap(fromSnapshot, snapshot: true);
            long snapshotBytes = fromSnapshot.Wire.BytesUp + fromSnapshot.Wire.BytesDown;
            var fromLog = OpenNode("from-log", snapshot: false);
            double logRows = Bootstrap(fromLog, snapshot: false);

            // 1% of the documents change; the snapshot-bootstrapped node pulls only the deltas.
            var random = new Random(42);
            for (int i = 0; i < docs / 100; i++)
            {
                await leaderDb.PatchAsync("assets", "doc" + random.Next(docs), $$"""{"t":{{random.Next(1000)}},"changed":true}""");
            }

            Round(fromSnapshot);
            long deltaBytes = fromSnapshot.Wire.BytesUp + fromSnapshot.Wire.BytesDown;

            // Catch-up: the log-bootstrapped node is behind by the 1% above plus `docs` more ops.
            await WriteDocumentsAsync(leaderDb, docs, i => $$"""{"i":{{i}},"v":2}""", patch: true);
            long behind = leaderDb.Wal.LastLsn - fromLog.Session.GetStatus(tick).DownloadCursor;
            var catchUp = Stopwatch.StartNew();
            Round(fromLog);
            catchUp.Stop();
            if (fromLog.Db.Wal.LastLsn == 0 || fromLog.Session.GetStatus(tick).DownloadCursor != leaderDb.Wal.LastLsn)
            {
                throw new InvalidOperationException("the lagging node did not catch up to the leader's head");
            }

            return new DatabaseSyncFigures(snapshotRows, logRows, snapshotBytes, deltaBytes, behind, behind / catchUp.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (CortexEdge.Core.EdgeDatabase db in databases)
            {
                db.Dispose();
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task WriteDocumentsAsync(CortexEdge.Core.EdgeDatabase db, int count, Func<int, string> json, bool patch = false)
    {
        var pending = new List<Task>(1024);
        for (int i = 0; i < count; i++)
        {
            pending.Add((patch ? db.PatchAsync("assets", "doc" + i, json(i)) : db.PutAsync("assets", "doc" + i, json(i))).AsTask());
            if (pending.Count == 1024)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
    }

    private readonly record struct DatabaseSyncFigures(double SnapshotRowsPerSecond, double LogRowsPerSecond, long SnapshotBytes, long DeltaBytes, long CatchUpOps, double CatchUpOpsPerSecond);

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
