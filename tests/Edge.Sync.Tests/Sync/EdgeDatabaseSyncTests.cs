using CortexEdge.Core;
using CortexEdge.Core.Documents;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>The sync protocol over real databases (EdgeDatabaseSyncStore / EdgeDatabaseLeaderStore) and a real mosquitto.</summary>
public sealed class EdgeDatabaseSyncTests : IAsyncLifetime
{
    private const string Fleet = "plant9";
    private const string Collection = "sensors";
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(60);
    private static readonly SyncSessionOptions Options = new() { SnapshotNewNodes = false };
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-dbsync-" + Guid.NewGuid().ToString("N")[..12]);
    private MosquittoBroker _broker = null!;
    private EdgeDatabase _leaderDb = null!;
    private MqttSyncLeader _leader = null!;
    private CancellationTokenSource _stop = null!;
    private Task _serving = null!;

    public async Task InitializeAsync()
    {
        _broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions { MaxPacketSize = 300 * 1024 });
        _leaderDb = Open("leader");
    }

    public async Task DisposeAsync()
    {
        await StopLeaderAsync();
        _leaderDb.Dispose();
        await _broker.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task LeaderAndThreeNodes_WriteOffline_SyncInRandomOrder_ConvergeAndResyncAppliesNothingTwice()
    {
        int seed = TestEnvironment.Seed();
        var random = new Random(seed);
        for (int i = 0; i < 40; i++)
        {
            await _leaderDb.PutAsync(Collection, "k" + i, $$"""{"by":"leader","i":{{i}}}""");
        }

        var nodes = new EdgeDatabase[3];
        long start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 100_000;
        for (int n = 0; n < nodes.Length; n++)
        {
            nodes[n] = Open("node" + n);
            for (int i = 0; i < 400; i++)
            {
                string key = "k" + random.Next(60);
                switch (random.Next(5))
                {
                    case 0: await nodes[n].DeleteAsync(Collection, key); break;
                    case 1: await nodes[n].PatchAsync(Collection, key, $$"""{"patched":{{n}},"p{{n}}":{{i}}}"""); break;
                    default: await nodes[n].PutAsync(Collection, key, $$"""{"by":"node{{n}}","i":{{i}},"pad":"{{new string('x', random.Next(100))}}"}"""); break;
                }
            }

            for (int i = 0; i < 50; i++)
            {
                await nodes[n].AppendAsync($"node{n}.temp", start + (i * 1000), 20 + (n * 0.5) + i);
            }

            // One series all nodes write at the same timestamps: merged as a set union keyed by (timestamp, origin).
            for (int i = 0; i < 10; i++)
            {
                await nodes[n].AppendAsync("shared.temp", start + (random.Next(20) * 1000), n + (i * 0.25));
            }
        }

        int sharedExpected = nodes.Sum(node => node.ReadRange("shared.temp", start, start + 100_000).Count);
        StartLeader();
        try
        {
            for (int pass = 0; pass < 2; pass++)
            {
                foreach (int n in Enumerable.Range(0, nodes.Length).OrderBy(_ => random.Next()))
                {
                    SyncStatus status = await SyncAsync(nodes[n], "node" + n);
                    Assert.Equal(0, status.Backlog.TotalOps);
                    Assert.True(status.IsDownloadUpToDate, $"seed {seed}: node{n} not up to date after pass {pass}");
                }
            }

            string expected = Render(_leaderDb);
            // Each node's readings of the shared series survive: no timestamp collision across nodes loses one.
            Assert.Equal(sharedExpected, _leaderDb.ReadRange("shared.temp", start, start + 100_000).Count);
            foreach (EdgeDatabase node in nodes)
            {
                Assert.True(expected == Render(node), $"seed {seed}: node {node.Directory} differs from the leader");
                Assert.Equal(_leaderDb.GetVersionVector(), node.GetVersionVector());
                Assert.Equal(400L + 50 + 10, (long)_leaderDb.GetVersionVector()[node.ReplicaId]);
            }

            // A second round moves nothing: no op is applied twice anywhere.
            long leaderLast = _leaderDb.Wal.LastLsn;
            long[] nodeLast = [.. nodes.Select(n => n.Wal.LastLsn)];
            foreach (int n in Enumerable.Range(0, nodes.Length).OrderBy(_ => random.Next()))
            {
                await SyncAsync(nodes[n], "node" + n);
            }

            Assert.Equal(leaderLast, _leaderDb.Wal.LastLsn);
            Assert.Equal(nodeLast, nodes.Select(n => n.Wal.LastLsn).ToArray());
            Assert.Equal(expected, Render(nodes[0]));
            Assert.Equal(0, _leader.Session.Counters.MalformedFrames);
        }
        finally
        {
            foreach (EdgeDatabase node in nodes)
            {
                node.Dispose();
            }
        }
    }

    [Fact]
    public async Task NodeName_BoundAtFirstSync_AnotherNameOrAnotherDatabaseUnderThatName_IsRefused()
    {
        StartLeader();
        using EdgeDatabase first = Open("first");
        await first.PutAsync(Collection, "a", """{"v":1}""");
        await SyncAsync(first, "alpha");

        // The same database under another name: refused locally, before anything is sent.
        var local = Assert.Throws<SyncProtocolException>(() => new MqttSyncNode(Client("x"), new EdgeDatabaseSyncStore(first), Fleet, "beta", Options));
        Assert.Equal(SyncProtocolErrorCode.NodeIdentityMismatch, local.Code);
        Assert.Contains("alpha", local.Message, StringComparison.Ordinal);

        // Another database under the bound name: the leader refuses and the node halts.
        using EdgeDatabase second = Open("second");
        await second.PutAsync(Collection, "b", """{"v":2}""");
        var remote = await Assert.ThrowsAsync<SyncProtocolException>(() => SyncAsync(second, "alpha"));
        Assert.Equal(SyncProtocolErrorCode.NodeIdentityMismatch, remote.Code);
        Assert.Null(_leaderDb.Get(Collection, "b"));

        // The binding survives a reopen.
        first.Dispose();
        using EdgeDatabase reopened = EdgeDatabase.Open(Path.Combine(_root, "first"));
        Assert.Equal("alpha", new EdgeDatabaseSyncStore(reopened).BoundNodeName);
    }

    [Fact]
    public async Task NodeRestartedMidUpload_ThenSyncs_LeaderHoldsEveryOpExactlyOnce()
    {
        const int Count = 6000;
        StartLeader();
        string directory = Path.Combine(_root, "restarting");
        EdgeDatabase db = Open("restarting");
        var random = new Random(42);
        for (int i = 0; i < Count; i++)
        {
            // Incompressible padding: the upload spans many frames, so the first ack comes mid-way.
            byte[] pad = new byte[150];
            random.NextBytes(pad);
            await db.PutAsync(Collection, "r" + i, $$"""{"i":{{i}},"pad":"{{Convert.ToBase64String(pad)}}"}""");
        }

        // Cut the round once the first acknowledgement arrived.
        using (var cut = new CancellationTokenSource(RoundTimeout))
        {
            await using var node = new MqttSyncNode(Client("restarting-1"), new EdgeDatabaseSyncStore(db), Fleet, "restarting", Options);
            node.EventRaised += e =>
            {
                if (node.Session.GetStatus(DateTimeOffset.UtcNow).UploadCursor > 0)
                {
                    cut.Cancel();
                }
            };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.SyncOnceAsync(SyncScope.All, cut.Token));
            Assert.True(node.Session.GetStatus(DateTimeOffset.UtcNow).UploadCursor < Count, "the round was not cut mid-way");
        }

        db.Dispose();
        db = EdgeDatabase.Open(directory);
        try
        {
            long cursorAfterRestart = new EdgeDatabaseSyncStore(db).UploadCursor;
            Assert.InRange(cursorAfterRestart, 1, Count);
            SyncStatus status = await SyncAsync(db, "restarting");
            Assert.Equal(Count, status.UploadCursor);
            Assert.Equal((ulong)Count, _leaderDb.GetVersionVector()[db.ReplicaId]);
            Assert.Equal(Count, _leaderDb.Scan(Collection).Count());
            Assert.Equal(Render(_leaderDb), Render(db));

            // Reopen once more: the cursors are persisted, so a sync moves nothing.
            long leaderLast = _leaderDb.Wal.LastLsn;
            db.Dispose();
            db = EdgeDatabase.Open(directory);
            await SyncAsync(db, "restarting");
            Assert.Equal(leaderLast, _leaderDb.Wal.LastLsn);
        }
        finally
        {
            db.Dispose();
        }
    }

    [Fact]
    public async Task LeaderKeepsItsWholeLog_AndANodeJoiningLateGetsEverythingFromIt()
    {
        StartLeader();
        using EdgeDatabase writer = Open("writer", new EdgeDatabaseOptions { WalSegmentBytes = 64 * 1024, CheckpointRecordCount = 64, RetainUnsyncedOps = true });
        for (int i = 0; i < 2000; i++)
        {
            await writer.PutAsync(Collection, "w" + i, $$"""{"i":{{i}},"pad":"{{new string('y', 60)}}"}""");
        }

        await writer.CheckpointAsync(); // checkpointed, but the upload hold keeps the log
        Assert.Equal(1, writer.Wal.FirstLsn);
        await SyncAsync(writer, "writer");
        await writer.CheckpointAsync();
        Assert.True(writer.Wal.FirstLsn > 1, "the acknowledged ops should no longer hold the node's log");
        await _leaderDb.CheckpointAsync();
        Assert.Equal(1, _leaderDb.Wal.FirstLsn);

        using EdgeDatabase late = Open("late");
        SyncStatus status = await SyncAsync(late, "late");
        Assert.True(status.InitialDownloadComplete);
        Assert.Equal(Render(_leaderDb), Render(late));
        Assert.Equal(2000, late.Scan(Collection).Count());
    }

    [Fact]
    public async Task OwnOpsTrimmedBeforeTheFirstSync_AreReportedWithATypedError_NotUploadedWithAGap()
    {
        using EdgeDatabase db = Open("unretained", new EdgeDatabaseOptions { WalSegmentBytes = 64 * 1024, CheckpointRecordCount = 64 });
        for (int i = 0; i < 2000; i++)
        {
            await db.PutAsync(Collection, "u" + i, $$"""{"i":{{i}},"pad":"{{new string('z', 60)}}"}""");
        }

        await db.CheckpointAsync();
        Assert.True(db.Wal.FirstLsn > 1);
        var error = Assert.Throws<SyncProtocolException>(() => new EdgeDatabaseSyncStore(db));
        Assert.Equal(SyncProtocolErrorCode.StoreFailure, error.Code);
        Assert.Contains("never acknowledged", error.Message, StringComparison.Ordinal);
    }

    // Document, time-series and vector ops (CE_SYNC_STORE_FUZZ_ALL_KINDS=0: documents only).
    [Fact]
    public async Task LeaderStore_FuzzedAndMutatedOps_AreAppliedOrRejectedWithATypedError_NeverCrash()
    {
        bool allKinds = TestEnvironment.Int("CE_SYNC_STORE_FUZZ_ALL_KINDS", 1) == 1;
        int seed = TestEnvironment.Seed();
        int iterations = TestEnvironment.Int("CE_SYNC_STORE_FUZZ", 3000);
        var random = new Random(seed);
        using EdgeDatabase source = Open("fuzz-source");
        await source.PutAsync(Collection, "doc", """{"a":1,"b":"text","c":[1,2]}""");
        await source.PatchAsync(Collection, "doc", """{"b":null,"d":{"x":true}}""");
        await source.DeleteAsync(Collection, "other");
        if (allKinds)
        {
            await source.AppendAsync("fuzz.series", 1_700_000_000_000, 1.5);
            await source.CreateVectorCollectionAsync("fuzz.vectors", 4);
            await source.UpsertVectorAsync("fuzz.vectors", "v1", [1f, 0f, 0.5f, 0.25f], "doc");
        }

        var valid = new List<SyncOp>();
        new EdgeDatabaseLeaderStore(source).ReadLog(0, long.MaxValue, 100, 1 << 20, valid);
        Assert.Equal(allKinds ? 6 : 3, valid.Count);

        var store = new EdgeDatabaseLeaderStore(_leaderDb);
        ulong origin = 0xF0F0;
        long hlc = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 10_000;
        int applied = 0, rejected = 0;
        for (int i = 0; i < iterations; i++)
        {
            byte[] payload;
            if (random.Next(2) == 0)
            {
                payload = valid[random.Next(valid.Count)].Payload.ToArray();
                for (int m = random.Next(1, 4); m > 0; m--)
                {
                    switch (random.Next(3))
                    {
                        case 0 when payload.Length > 1: payload[random.Next(allKinds ? 0 : 1, payload.Length)] = (byte)random.Next(256); break;
                        case 1: payload = payload[..random.Next(allKinds ? 0 : 1, payload.Length + 1)]; break;
                        default: payload = [.. payload, (byte)random.Next(256)]; break;
                    }

                    if (payload.Length == 0)
                    {
                        break;
                    }
                }
            }
            else
            {
                payload = new byte[random.Next(0, 64)];
                random.NextBytes(payload);
                if (payload.Length > 0 && random.Next(4) != 0)
                {
                    payload[0] = allKinds ? (byte)(16 * random.Next(1, 4)) : (byte)WalRecordKind.Document;
                }
                else if (payload.Length > 0 && !allKinds && payload[0] is 32 or 48)
                {
                    payload[0] = 0;
                }
            }

            long seq = store.GetAppliedSeq(origin) + 1;
            var op = new SyncOp(origin, seq, SyncOp.PackHlc(hlc + i, 0), SyncOpFlags.None, payload);
            try
            {
                store.Apply(op);
                applied++;
            }
            catch (SyncProtocolException ex) when (ex.Code is SyncProtocolErrorCode.OpRejected)
            {
                rejected++;
            }
        }

        Assert.True(rejected > 0, $"seed {seed}: nothing was rejected");
        Assert.Equal((ulong)applied, _leaderDb.GetVersionVector()[origin]);
        await _leaderDb.FlushAsync();
        Assert.False(_leaderDb.IsFaulted, $"seed {seed}: {_leaderDb.GetStats().Fault}");
    }

    [Fact]
    public async Task LeaderRestartedBetweenRounds_KeepsBindingsAndAppliesEveryOpExactlyOnce()
    {
        StartLeader();
        using EdgeDatabase one = Open("one");
        using EdgeDatabase two = Open("two");
        for (int i = 0; i < 300; i++)
        {
            await one.PutAsync(Collection, "o" + i, $$"""{"i":{{i}}}""");
        }

        await SyncAsync(one, "one");
        await StopLeaderAsync();
        _leaderDb.Dispose();
        _leaderDb = Open("leader");
        StartLeader();

        for (int i = 0; i < 200; i++)
        {
            await one.PatchAsync(Collection, "o" + i, $$"""{"second":{{i}}}""");
            await two.PutAsync(Collection, "t" + i, $$"""{"i":{{i}}}""");
        }

        await SyncAsync(one, "one");
        await SyncAsync(two, "two");
        await SyncAsync(one, "one");
        Assert.Equal(500UL, _leaderDb.GetVersionVector()[one.ReplicaId]);
        Assert.Equal(200UL, _leaderDb.GetVersionVector()[two.ReplicaId]);
        Assert.Equal(Render(_leaderDb), Render(one));
        Assert.Equal(Render(_leaderDb), Render(two));
        Assert.Equal(500, _leaderDb.Scan(Collection).Count());

        // The leader's binding of "one" survived its restart: another database under that name is refused.
        using EdgeDatabase three = Open("three");
        var refused = await Assert.ThrowsAsync<SyncProtocolException>(() => SyncAsync(three, "one"));
        Assert.Equal(SyncProtocolErrorCode.NodeIdentityMismatch, refused.Code);
    }

    private EdgeDatabase Open(string name, EdgeDatabaseOptions? options = null) =>
        EdgeDatabase.Open(Path.Combine(_root, name), options ?? new EdgeDatabaseOptions { Durability = WalDurability.Group(TimeSpan.FromMilliseconds(2)) });

    private async Task StopLeaderAsync()
    {
        if (_leader is null)
        {
            return;
        }

        await _stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _serving);
        await _leader.DisposeAsync();
        _stop.Dispose();
        _leader = null!;
    }

    private void StartLeader()
    {
        _leader = new MqttSyncLeader(Client("leader"), new EdgeDatabaseLeaderStore(_leaderDb), Fleet, Options);
        _stop = new CancellationTokenSource();
        _serving = _leader.RunAsync(_stop.Token);
        _broker.WaitForSubscriptionAsync($"ce/{Fleet}/pull/+").GetAwaiter().GetResult();
    }

    private async Task<SyncStatus> SyncAsync(EdgeDatabase db, string nodeName)
    {
        using var deadline = new CancellationTokenSource(RoundTimeout);
        await using var node = new MqttSyncNode(Client(nodeName + "-" + Guid.NewGuid().ToString("N")[..6]), new EdgeDatabaseSyncStore(db), Fleet, nodeName, Options);
        return await node.SyncOnceAsync(SyncScope.All, deadline.Token);
    }

    private MqttClient Client(string id) => new(new MqttClientOptions
    {
        Host = _broker.Host, Port = _broker.Port, ClientId = id,
        ReconnectDelayMin = TimeSpan.FromMilliseconds(50), ReconnectDelayMax = TimeSpan.FromSeconds(1),
    });

    private static string Render(EdgeDatabase db) => DatabaseSyncHarness.Render(db, Collection).ToString();
}
