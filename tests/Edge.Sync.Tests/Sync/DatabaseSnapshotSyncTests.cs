using CortexEdge.Core;
using CortexEdge.Core.Documents;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Vectors;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>
/// Snapshots and tombstone purge over real databases: a leader that prunes its log bootstraps new
/// and lagging nodes from a snapshot of its state (documents with CRDT fields, time series,
/// vectors) sent in resumable chunks; tombstones are purged by acknowledgement or horizon.
/// </summary>
public sealed class DatabaseSnapshotSyncTests
{
    private const string Collection = "assets";
    private const string Vectors = "embeddings";
    private static readonly string[] VectorIds = ["v0", "v1", "v2", "v3"];

    private static readonly SyncSessionOptions Options = Make(snapshotNewNodes: true, TimeSpan.FromDays(30));

    private static SyncSessionOptions Make(bool snapshotNewNodes, TimeSpan horizon) => new()
    {
        SnapshotChunkBytes = 4096,
        FramesPerPull = 4,
        PurgeInterval = TimeSpan.FromMilliseconds(1),
        SnapshotNewNodes = snapshotNewNodes,
        TombstoneHorizon = horizon,
    };

    [Fact]
    public async Task NewNode_LeaderLogPruned_BootstrapsFromSnapshotOverMosquitto_ThenTakesDeltas_AndConverges()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions { MaxPacketSize = 300 * 1024 });
        string root = Path.Combine(Path.GetTempPath(), "ce-snapmqtt-" + Guid.NewGuid().ToString("N")[..12]);
        var options = new SyncSessionOptions { SnapshotChunkBytes = 16 * 1024 };
        try
        {
            using EdgeDatabase leaderDb = Declare(EdgeDatabase.Open(Path.Combine(root, "leader"), DatabaseSyncHarness.SmallLog(node: false)));
            var leaderStore = new EdgeDatabaseLeaderStore(leaderDb) { LogRetentionRecords = 200 };
            await using var leader = new MqttSyncLeader(Client(broker, "leader"), leaderStore, DatabaseSyncHarness.Fleet, options);
            using var stop = new CancellationTokenSource();
            Task serving = leader.RunAsync(stop.Token);
            await broker.WaitForSubscriptionAsync($"ce/{DatabaseSyncHarness.Fleet}/pull/+");

            using EdgeDatabase writer = Declare(EdgeDatabase.Open(Path.Combine(root, "writer"), DatabaseSyncHarness.SmallLog()));
            await WriteMixedStateAsync(writer, "w", 1500);
            await SyncOverMqttAsync(broker, writer, "writer", options);
            await leaderDb.CheckpointAsync();
            Assert.True(leaderDb.Wal.FirstLsn > 1, $"the leader should have pruned its log (first LSN {leaderDb.Wal.FirstLsn})");

            using EdgeDatabase fresh = Declare(EdgeDatabase.Open(Path.Combine(root, "fresh"), DatabaseSyncHarness.SmallLog()));
            await fresh.PutAsync(Collection, "fresh-offline", """{"by":"fresh"}"""); // written before its first sync
            (SyncStatus status, NodeSyncCounters counters) = await SyncOverMqttAsync(broker, fresh, "fresh", options);
            Assert.True(status.InitialDownloadComplete);
            Assert.Equal(1, counters.SnapshotsImported);
            Assert.True(counters.SnapshotChunksReceived > 1, "the snapshot should travel in several chunks");

            // Deltas after the snapshot: the writer changes more, both sync.
            await writer.PatchAsync(Collection, "w7", """{"after":"snapshot"}""");
            await writer.IncrementAsync(Collection, "w7", "hits", 5);
            await writer.DeleteAsync(Collection, "w8");
            await SyncOverMqttAsync(broker, writer, "writer", options);
            (_, NodeSyncCounters again) = await SyncOverMqttAsync(broker, fresh, "fresh", options);
            Assert.Equal(0, again.SnapshotsImported);
            await SyncOverMqttAsync(broker, writer, "writer", options);

            string expected = Render(leaderDb);
            Assert.Contains("fresh-offline", expected, StringComparison.Ordinal);
            Assert.Equal(expected, Render(fresh));
            Assert.Equal(expected, Render(writer));
            Assert.Equal(leaderDb.GetVersionVector(), fresh.GetVersionVector());
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task SnapshotTransferCutMidway_NodeCrashesMidChunk_ResumesFromTheNextChunk_NoChunkSentTwice()
    {
        using var harness = new DatabaseSyncHarness(Options);
        DatabaseSyncHarness.Node writer = harness.OpenNode("writer");
        await WriteMixedStateAsync(writer.Db, "w", 800);
        Assert.True(harness.Sync(writer));

        DatabaseSyncHarness.Node fresh = harness.OpenNode("fresh");
        const int cutAt = 5;
        bool cut = false;
        harness.Deliverable = frame =>
        {
            cut |= frame is SnapshotChunkFrame { Index: >= cutAt };
            return !cut; // the link dies at chunk 5: nothing after it arrives
        };
        Assert.False(harness.Sync(fresh, roundsMax: 0));
        SnapshotTransfer? pending = fresh.Store.PendingSnapshot;
        Assert.NotNull(pending);
        Assert.Equal(cutAt, pending.NextChunk);
        int total = pending.Total;
        Assert.True(total > cutAt + 2, $"the snapshot should need more chunks ({total})");

        // The node crashes while appending chunk 5 (half of it reached the staging file) and restarts:
        // the transfer is read back from its database, the torn tail dropped, and it resumes at chunk 5.
        string staging = Path.Combine(fresh.Db.Directory, "sync-snapshot.part");
        harness.CloseNode("fresh");
        using (var file = new FileStream(staging, FileMode.Append))
        {
            file.Write(new byte[Options.SnapshotChunkBytes / 2]);
        }

        fresh = harness.OpenNode("fresh");
        Assert.Equal(cutAt, fresh.Store.PendingSnapshot?.NextChunk);
        harness.Deliverable = _ => true;
        harness.LeaderSent.Clear();
        Assert.True(harness.Sync(fresh));
        int[] resent = [.. harness.LeaderSent.OfType<SnapshotChunkFrame>().Select(c => c.Index)];
        Assert.Equal(Enumerable.Range(cutAt, total - cutAt), resent);
        Assert.Equal(1, fresh.Session.Counters.SnapshotsImported);
        Assert.Null(fresh.Store.PendingSnapshot);
        Assert.Equal(Render(harness.LeaderDb), Render(fresh.Db));
        Assert.Equal(harness.LeaderDb.GetVersionVector(), fresh.Db.GetVersionVector());
    }

    [Fact]
    public async Task NodeBehindThePrunedLog_IsRebootstrappedFromASnapshot_KeepsItsOfflineWrites_AndConverges()
    {
        using var harness = new DatabaseSyncHarness(Make(snapshotNewNodes: false, TimeSpan.FromDays(30)), logRetentionRecords: 100);
        DatabaseSyncHarness.Node laggard = harness.OpenNode("laggard");
        await laggard.Db.PutAsync(Collection, "early", """{"v":1}""");
        Assert.True(harness.Sync(laggard));
        Assert.Equal(0, laggard.Session.Counters.SnapshotsImported);
        long cursor = laggard.Store.DownloadCursor;

        DatabaseSyncHarness.Node busy = harness.OpenNode("busy");
        await WriteMixedStateAsync(busy.Db, "b", 1500);
        await busy.Db.DeleteAsync(Collection, "early");
        Assert.True(harness.Sync(busy));
        await harness.LeaderDb.CheckpointAsync();
        Assert.True(harness.LeaderDb.Wal.FirstLsn > cursor + 1, $"the leader log (from {harness.LeaderDb.Wal.FirstLsn}) should be pruned past the laggard's cursor {cursor}");

        // Offline writes while behind: one to a document others changed, one new.
        await laggard.Db.PatchAsync(Collection, "b3", """{"laggard":true}""");
        await laggard.Db.PutAsync(Collection, "laggard-new", """{"v":2}""");
        Assert.True(harness.Sync(laggard));
        Assert.Equal(1, laggard.Session.Counters.SnapshotsImported);
        Assert.True(harness.Sync(busy));

        string expected = Render(harness.LeaderDb);
        Assert.Contains("laggard-new", expected, StringComparison.Ordinal);
        Assert.Contains("\"laggard\":true", expected, StringComparison.Ordinal);
        Assert.DoesNotContain("early=", expected, StringComparison.Ordinal);
        Assert.Equal(expected, Render(laggard.Db));
        Assert.Equal(expected, Render(busy.Db));
        Assert.Equal(harness.LeaderDb.GetVersionVector(), laggard.Db.GetVersionVector());
    }

    [Fact]
    public async Task Tombstone_IsPurgedOnlyOnceEveryNodeHasPulledPastTheDelete()
    {
        using var harness = new DatabaseSyncHarness(Options);
        DatabaseSyncHarness.Node a = harness.OpenNode("a");
        DatabaseSyncHarness.Node b = harness.OpenNode("b");
        await a.Db.PutAsync(Collection, "doomed", """{"v":1}""");
        await a.Db.PutAsync(Collection, "kept", """{"v":1}""");
        Assert.True(harness.Sync(a));
        Assert.True(harness.Sync(b));
        await a.Db.DeleteAsync(Collection, "doomed");
        Assert.True(harness.Sync(a));
        harness.Now += TimeSpan.FromSeconds(1);
        harness.TickLeader();
        Assert.Equal(0, harness.LeaderStore.TombstonesPurged); // b could still send a concurrent write

        // A pull counts once it starts past the delete with nothing left to upload: one more round each.
        Assert.True(harness.Sync(b));
        Assert.Null(b.Db.Get(Collection, "doomed"));
        Assert.True(harness.Sync(a));
        harness.Now += TimeSpan.FromSeconds(1);
        harness.TickLeader();
        Assert.Equal(0, harness.LeaderStore.TombstonesPurged);
        Assert.True(harness.Sync(b));
        harness.Now += TimeSpan.FromSeconds(1);
        harness.TickLeader();
        Assert.Equal(1, harness.LeaderStore.TombstonesPurged);
        Assert.True(harness.LeaderStore.PurgedLsn > 0);

        // A node joining after the purge gets neither the document nor its tombstone.
        DatabaseSyncHarness.Node late = harness.OpenNode("late");
        Assert.True(harness.Sync(late));
        Assert.Null(late.Db.Get(Collection, "doomed"));
        Assert.Equal(Render(harness.LeaderDb), Render(late.Db));
    }

    [Fact]
    public async Task NodeOfflineBeyondTheHorizon_DoesNotHoldBackPurge_AndIsRebootstrappedWithoutResurrectingTheDocument()
    {
        var horizon = TimeSpan.FromHours(1);
        using var harness = new DatabaseSyncHarness(Make(snapshotNewNodes: true, horizon));
        DatabaseSyncHarness.Node a = harness.OpenNode("a");
        DatabaseSyncHarness.Node away = harness.OpenNode("away");
        await a.Db.PutAsync(Collection, "doomed", """{"v":1}""");
        await a.Db.PutAsync(Collection, "kept", """{"v":1}""");
        Assert.True(harness.Sync(a));
        Assert.True(harness.Sync(away));
        Assert.NotNull(away.Db.Get(Collection, "doomed"));

        harness.Now += horizon + TimeSpan.FromMinutes(1);
        await a.Db.DeleteAsync(Collection, "doomed");
        Assert.True(harness.Sync(a));
        Assert.True(harness.Sync(a)); // its next pull starts past the delete with nothing left to upload
        harness.Now += TimeSpan.FromSeconds(1);
        harness.TickLeader();
        Assert.Equal(1, harness.LeaderStore.TombstonesPurged); // "away" was not heard from for the horizon

        long imported = away.Session.Counters.SnapshotsImported; // it joined from a snapshot too
        Assert.True(harness.Sync(away));
        Assert.Equal(imported + 1, away.Session.Counters.SnapshotsImported);
        Assert.Equal(1, away.Store.DocumentsHiddenBySnapshots);
        Assert.Null(away.Db.Get(Collection, "doomed"));
        Assert.NotNull(away.Db.Get(Collection, "kept"));
        Assert.True(harness.Sync(a));
        Assert.Null(harness.LeaderDb.Get(Collection, "doomed"));
        Assert.Equal(Render(harness.LeaderDb), Render(away.Db));
        Assert.Equal(Render(harness.LeaderDb), Render(a.Db));
    }

    [Fact]
    public async Task CrashMidImport_StoreReopened_FinishesTheImportFromTheStagedSnapshot()
    {
        using var harness = new DatabaseSyncHarness(Options);
        DatabaseSyncHarness.Node writer = harness.OpenNode("writer");
        await WriteMixedStateAsync(writer.Db, "w", 200);
        Assert.True(harness.Sync(writer));
        SyncSnapshot snapshot = harness.LeaderStore.ExportSnapshot();

        // What a crash leaves once an import has started: the whole snapshot staged, the transfer
        // marked as importing, part of the state applied, the download cursor not yet moved.
        DatabaseSyncHarness.Node node = harness.OpenNode("crashed");
        string directory = node.Db.Directory;
        await File.WriteAllBytesAsync(Path.Combine(directory, "sync-snapshot.part"), snapshot.Data);
        uint checksum = Crc32C.Compute(snapshot.Data);
        node.Db.SetMetadata("sync.snapshot", $"{0x5EED:X16}:{snapshot.Lsn}:1:{snapshot.Data.Length}:{checksum}:{snapshot.Data.Length}:1");
        await node.Db.PutAsync(Collection, "w1", """{"partly":"applied"}""");
        Assert.Equal(0, node.Store.DownloadCursor);

        node = harness.OpenNode("crashed");
        Assert.Null(node.Store.PendingSnapshot);
        Assert.Equal(snapshot.Lsn, node.Store.DownloadCursor);
        Assert.False(File.Exists(Path.Combine(directory, "sync-snapshot.part")));
        Assert.True(harness.Sync(node));
        Assert.True(harness.Sync(writer));
        Assert.Equal(Render(harness.LeaderDb), Render(node.Db));
        Assert.Equal(Render(harness.LeaderDb), Render(writer.Db));
    }

    [Fact]
    public async Task MutatedSnapshots_AreImportedOrRefusedWithStoreFailure_NeverCrashTheNode()
    {
        int seed = TestEnvironment.Seed();
        int iterations = TestEnvironment.Int("CE_SNAPSHOT_FUZZ", 300);
        var random = new Random(seed);
        using var harness = new DatabaseSyncHarness(Options);
        for (int i = 0; i < 40; i++)
        {
            await harness.LeaderDb.PutAsync(Collection, "d" + i, $$"""{"i":{{i}}}""");
            await harness.LeaderDb.IncrementAsync(Collection, "d" + i, "hits", i + 1);
        }

        SyncSnapshot snapshot = harness.LeaderStore.ExportSnapshot();
        DatabaseSyncHarness.Node node = harness.OpenNode("fuzzed");
        int refused = 0;
        for (int n = 0; n < iterations; n++)
        {
            byte[] data = (byte[])snapshot.Data.Clone();
            int flips = 1 + random.Next(4);
            for (int f = 0; f < flips; f++)
            {
                data[random.Next(data.Length)] ^= (byte)(1 + random.Next(255));
            }

            if (random.Next(8) == 0)
            {
                Array.Resize(ref data, random.Next(data.Length));
            }

            try
            {
                node.Store.ImportSnapshot(data, snapshot.Lsn);
            }
            catch (SyncProtocolException ex)
            {
                Assert.True(ex.Code == SyncProtocolErrorCode.StoreFailure, $"seed {seed}, iteration {n}: {ex.Code} {ex.Message}");
                refused++;
            }
        }

        // The node still works: the intact snapshot imports and the state matches the leader's.
        Assert.False(node.Db.IsFaulted, $"seed {seed}: a mutated snapshot faulted the database");
        node.Store.ImportSnapshot(snapshot.Data, snapshot.Lsn);
        Assert.True(refused > 0, $"seed {seed}: no mutation was refused");
        await node.Db.PutAsync(Collection, "after", """{"ok":true}""");
        Assert.NotNull(node.Db.Get(Collection, "after"));
    }

    /// <summary>Every replica declares the same CRDT fields (the schema is configuration, not replicated).</summary>
    internal static EdgeDatabase Declare(EdgeDatabase db)
    {
        db.DeclareCollection(new CollectionSchema(Collection, new Dictionary<string, DocumentFieldType> { ["hits"] = DocumentFieldType.PnCounter, ["tags"] = DocumentFieldType.OrSet }));
        return db;
    }

    // Documents with LWW and CRDT fields, deletes, a time series and a vector collection.
    private static async Task WriteMixedStateAsync(EdgeDatabase db, string prefix, int documents)
    {
        for (int i = 0; i < documents; i++)
        {
            await db.PutAsync(Collection, prefix + i, $$"""{"i":{{i}},"pad":"{{new string('p', 40 + (i % 50))}}"}""");
        }

        for (int i = 0; i < documents; i += 10)
        {
            await db.IncrementAsync(Collection, prefix + i, "hits", i + 1);
            await db.AddToSetAsync(Collection, prefix + i, "tags", "\"t" + (i % 7) + "\"");
        }

        for (int i = 5; i < documents; i += 50)
        {
            await db.DeleteAsync(Collection, prefix + i);
        }

        if (db.GetVectorCollectionNames().Count == 0)
        {
            await db.CreateVectorCollectionAsync(Vectors, 3);
        }

        for (int i = 0; i < VectorIds.Length; i++)
        {
            await db.UpsertVectorAsync(Vectors, VectorIds[i], [1 + i, 2, 3 + prefix.Length], prefix + i);
        }

        await db.DeleteVectorAsync(Vectors, VectorIds[^1]);

        // Last: an open time-series head holds the WAL from its first record (heads live in the log).
        long start = 1_700_000_000_000;
        for (int i = 0; i < 300; i++)
        {
            await db.AppendAsync(prefix + ".temp", start + (i * 1000), 20 + (i * 0.25));
        }
    }

    private static async Task<(SyncStatus Status, NodeSyncCounters Counters)> SyncOverMqttAsync(MosquittoBroker broker, EdgeDatabase db, string name, SyncSessionOptions options)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var node = new MqttSyncNode(Client(broker, name + "-" + Guid.NewGuid().ToString("N")[..6]), new EdgeDatabaseSyncStore(db), DatabaseSyncHarness.Fleet, name, options);
        SyncStatus status = await node.SyncOnceAsync(SyncScope.All, deadline.Token);
        return (status, node.Session.Counters);
    }

    private static MqttClient Client(MosquittoBroker broker, string id) => new(new MqttClientOptions
    {
        Host = broker.Host, Port = broker.Port, ClientId = id,
        ReconnectDelayMin = TimeSpan.FromMilliseconds(50), ReconnectDelayMax = TimeSpan.FromSeconds(1),
    });

    // The visible state: documents (with CRDT fields), every series' readings, and the vectors.
    private static string Render(EdgeDatabase db)
    {
        System.Text.StringBuilder text = DatabaseSyncHarness.Render(db, Collection);

        if (db.GetVectorCollectionNames().Contains(Vectors))
        {
            foreach (string id in VectorIds)
            {
                VectorRecord? vector = db.GetVector(Vectors, id);
                text.Append(id).Append(vector is null ? "=none" : $"={string.Join(',', vector.Vector)}@{vector.DocumentKey}").Append('\n');
            }
        }

        return text.ToString();
    }
}
