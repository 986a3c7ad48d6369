using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Sync.Tests.Sync;

public sealed class LeaderSyncSessionTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private static MemorySyncStore NodeStore(ulong id, int adds, long nowMs = 1_800_000_000_000)
    {
        var store = new MemorySyncStore(id, isLeader: false, MemoryDurability.Always);
        for (int i = 0; i < adds; i++)
        {
            store.WriteLocal(MemorySyncStore.EncodeAdd("c", 1), nowMs);
        }

        return store;
    }

    private static UploadBatchFrame Batch(MemorySyncStore store, long firstSeq, int count, string node = "n1") => new()
    {
        Fleet = SyncPair.Fleet, Node = node, Sender = store.ReplicaId, Origin = store.ReplicaId, FirstSeq = firstSeq,
        Ops = [.. store.OwnOps.Skip((int)firstSeq - 1).Take(count)],
    };

    [Fact]
    public void Upload_DuplicateBatch_IsAcknowledgedAndNotReapplied()
    {
        var pair = new SyncPair();
        MemorySyncStore node = NodeStore(7, 5);
        pair.Leader.Receive(Batch(node, 1, 5), T0);
        SyncActions again = pair.Leader.Receive(Batch(node, 1, 5), T0);
        Assert.Equal(5, pair.LeaderStore.CounterTotal("c"));
        Assert.Equal(5, pair.Leader.Counters.DuplicateOps);
        AckFrame ack = Assert.IsType<AckFrame>(Assert.Single(again.Frames));
        Assert.Equal(5, ack.AckedSeq);
    }

    [Fact]
    public void Upload_BatchPastAGap_IsNotAppliedAndAResendIsRequested()
    {
        var pair = new SyncPair();
        MemorySyncStore node = NodeStore(7, 6);
        pair.Leader.Receive(Batch(node, 1, 2), T0);
        SyncActions gap = pair.Leader.Receive(Batch(node, 4, 3), T0);
        Assert.Equal(2, pair.LeaderStore.CounterTotal("c"));
        Assert.Equal(1, pair.Leader.Counters.Gaps);
        ResendRequestFrame resend = Assert.IsType<ResendRequestFrame>(Assert.Single(gap.Frames));
        Assert.Equal(3, resend.FromSeq);
    }

    [Fact]
    public void Ack_IsSentOnlyOnceTheLeaderLogIsDurable()
    {
        var pair = new SyncPair(MemoryDurability.OnFlush);
        MemorySyncStore node = NodeStore(7, 3);
        SyncActions applied = pair.Leader.Receive(Batch(node, 1, 3), T0);
        Assert.DoesNotContain(applied.Frames, f => f is AckFrame);
        Assert.Empty(pair.Leader.Tick(T0).Frames.OfType<AckFrame>());

        pair.LeaderStore.Crash(); // not durable: lost, and never acknowledged
        Assert.Equal(0, pair.LeaderStore.CounterTotal("c"));
        pair.Leader.Receive(Batch(node, 1, 3), T0);
        pair.LeaderStore.Flush();
        AckFrame ack = Assert.IsType<AckFrame>(Assert.Single(pair.Leader.Tick(T0).Frames));
        Assert.Equal(3, ack.AckedSeq);
        Assert.Equal(3, pair.LeaderStore.CounterTotal("c"));
    }

    [Fact]
    public void Upload_OpStampedBeyondTheSkewLimit_IsRefusedCountedAndTheNodeStaysUsable()
    {
        var pair = new SyncPair();
        var store = new MemorySyncStore(7, isLeader: false, MemoryDurability.Always);
        long t0 = T0.ToUnixTimeMilliseconds();
        store.WriteLocal(MemorySyncStore.EncodeAdd("c", 1), t0);
        store.WriteLocal(MemorySyncStore.EncodeAdd("c", 1), t0 + 90_000); // clock jumped 90 s ahead
        NodeSyncSession node = pair.AddNode("n1", store);
        pair.Sync("n1");

        Assert.Equal(1, pair.Leader.Counters.ClockSkewRefusals);
        Assert.Equal(1, pair.LeaderStore.CounterTotal("c"));
        SyncStatus status = node.GetStatus(pair.Now);
        Assert.Equal(1, status.ClockSkewRefusals);
        Assert.Equal(SyncProtocolErrorCode.ClockSkew, status.LastError?.Code);
        Assert.False(status.IsHalted);
        Assert.Equal(1, store.UploadCursor);

        // The node keeps working locally, and once the leader's clock has caught up the op goes through.
        store.WriteLocal(MemorySyncStore.EncodeAdd("c", 1), t0 + 1);
        pair.Now = T0 + TimeSpan.FromSeconds(40);
        pair.Sync("n1");
        Assert.Equal(3, pair.LeaderStore.CounterTotal("c"));
        Assert.Equal(3, store.UploadCursor);
    }

    [Fact]
    public void Receive_NodeNameBoundToAnotherReplica_IsRefused()
    {
        var pair = new SyncPair();
        pair.Leader.Receive(Batch(NodeStore(7, 1), 1, 1), T0);
        SyncActions refused = pair.Leader.Receive(Batch(NodeStore(8, 1), 1, 1), T0);
        ErrorFrame error = Assert.IsType<ErrorFrame>(Assert.Single(refused.Frames));
        Assert.Equal(SyncProtocolErrorCode.NodeIdentityMismatch, error.Code);
        Assert.Equal(1, pair.LeaderStore.CounterTotal("c"));
    }

    [Fact]
    public void NodeSession_DatabaseBoundToAnotherName_RefusesToStart()
    {
        MemorySyncStore store = NodeStore(7, 1);
        _ = new NodeSyncSession(store, SyncPair.Fleet, "first");
        var ex = Assert.Throws<SyncProtocolException>(() => new NodeSyncSession(store, SyncPair.Fleet, "second"));
        Assert.Equal(SyncProtocolErrorCode.NodeIdentityMismatch, ex.Code);
        Assert.Contains("first", ex.Message);
    }

    [Fact]
    public void Receive_FuzzedFrames_AreAnsweredOrDroppedWithACounterAndTheLeaderKeepsServing()
    {
        int seed = TestEnvironment.Seed();
        int frames = TestEnvironment.Int("CE_SYNC_FUZZ_FRAMES", 100_000);
        var random = new Random(seed);
        var pair = new SyncPair();
        byte[][] valid = [.. Protocol.SyncFrameCodecTests.SampleFrames().Select(f => SyncFrameCodec.Encode(f))];
        MemorySyncStore honest = NodeStore(0x600D, 0);
        NodeSyncSession node = pair.AddNode("honest", honest);
        long expected = 0;
        for (int i = 0; i < frames; i++)
        {
            byte[] input = Sync.SyncFuzz.Mutate(random, valid[random.Next(valid.Length)]);
            try
            {
                SyncActions actions = pair.Leader.ReceiveBytes(input, "gw-1", pair.Now);
                foreach (SyncFrame reply in actions.Frames)
                {
                    SyncFrameCodec.Encode(reply, pair.SessionOptions.Limits); // every reply is a valid frame
                }
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {seed} (CE_TEST_SEED={seed}) frame {i}: leader threw {ex.GetType().Name}: {ex.Message}; input {Convert.ToHexString(input)}");
            }

            if (i % (frames / 10) == 0)
            {
                // Between the garbage, an honest node still syncs exactly.
                honest.WriteLocal(MemorySyncStore.EncodeAdd("honest", 1), pair.Now.ToUnixTimeMilliseconds());
                expected++;
                pair.Sync("honest");
                Assert.Equal(expected, pair.LeaderStore.CounterTotal("honest"));
                Assert.True(node.IsIdle, $"seed {seed}: honest node not idle after frame {i}");
            }
        }

        LeaderSyncCounters c = pair.Leader.Counters;
        Assert.Equal(frames + pair.NodeSent.Count, c.FramesReceived);
        Assert.True(c.MalformedFrames > frames / 2, $"seed {seed}: only {c.MalformedFrames} of {frames} fuzzed frames were counted malformed");
        Assert.True(c.ErrorsSent >= c.MalformedFrames, $"seed {seed}: {c.MalformedFrames} malformed frames but {c.ErrorsSent} error replies");
    }

    [Fact]
    public void Pull_NewNode_GetsASnapshotThenDeltasAndConverges()
    {
        var pair = new SyncPair();
        for (int i = 0; i < 300; i++)
        {
            pair.LeaderStore.WriteLocal(MemorySyncStore.EncodeSet("k" + i, new string('v', 20) + i), T0.ToUnixTimeMilliseconds());
        }

        var store = new MemorySyncStore(9, isLeader: false, MemoryDurability.Always);
        NodeSyncSession node = pair.AddNode("n9", store);
        pair.Sync("n9");
        Assert.Equal(1, node.Counters.SnapshotsImported);
        Assert.True(node.Counters.SnapshotChunksReceived > 2);
        Assert.Equal(pair.LeaderStore.VisibleState(), store.VisibleState());

        pair.LeaderStore.WriteLocal(MemorySyncStore.EncodeSet("k1", "changed"), T0.ToUnixTimeMilliseconds() + 1);
        pair.Sync("n9");
        Assert.Equal(1, node.Counters.SnapshotsImported);
        Assert.Equal("changed", store.VisibleState()["register:k1"]);
        Assert.True(node.GetStatus(pair.Now).InitialDownloadComplete);
    }

    [Fact]
    public void Snapshot_InterruptedTransfer_ResumesFromTheLastChunkReceived()
    {
        var pair = new SyncPair();
        for (int i = 0; i < 400; i++)
        {
            pair.LeaderStore.WriteLocal(MemorySyncStore.EncodeSet("k" + i, Guid.NewGuid().ToString()), T0.ToUnixTimeMilliseconds());
        }

        var store = new MemorySyncStore(9, isLeader: false, MemoryDurability.Always);
        pair.AddNode("n9", store);
        pair.Deliverable = f => f is not SnapshotChunkFrame { Index: >= 3 }; // the link dies after chunk 2
        pair.Sync("n9");
        Assert.Equal(3, store.PendingSnapshot?.NextChunk);

        // A restart of the node process: a new session over the same database resumes at chunk 3.
        pair.Deliverable = _ => true;
        pair.LeaderSent.Clear();
        pair.NodeSent.Clear();
        NodeSyncSession restarted = pair.AddNode("n9", store);
        pair.Sync("n9");
        Assert.Equal(3, pair.NodeSent.OfType<PullFrame>().First().SnapshotNextChunk);
        Assert.Equal(3, pair.LeaderSent.OfType<SnapshotChunkFrame>().Min(c => c.Index));
        Assert.Equal(1, restarted.Counters.SnapshotsImported);
        Assert.Equal(pair.LeaderStore.VisibleState(), store.VisibleState());
    }

    [Fact]
    public void Pull_BehindThePrunedLog_GetsASnapshot()
    {
        var pair = new SyncPair();
        var store = new MemorySyncStore(9, isLeader: false, MemoryDurability.Always);
        NodeSyncSession node = pair.AddNode("n9", store);
        pair.Sync("n9");
        for (int i = 0; i < 50; i++)
        {
            pair.LeaderStore.WriteLocal(MemorySyncStore.EncodeAdd("c", 1), T0.ToUnixTimeMilliseconds());
        }

        pair.LeaderStore.PruneLog(40);
        pair.Sync("n9");
        Assert.Equal(1, node.Counters.SnapshotsImported);
        Assert.Equal(50, store.CounterTotal("c"));
    }

    [Fact]
    public void Tombstone_PurgedOnceEveryNodeIsPastIt_AndAStaleNodeIsRebootstrappedWithoutResurrection()
    {
        var options = new SyncSessionOptions
        {
            Limits = SyncPair.Options.Limits, SnapshotChunkBytes = 512, PurgeInterval = TimeSpan.FromMilliseconds(1),
            TombstoneHorizon = TimeSpan.FromMinutes(10),
        };
        var pair = new SyncPair(options: options);
        var a = new MemorySyncStore(0xA, isLeader: false, MemoryDurability.Always);
        var b = new MemorySyncStore(0xB, isLeader: false, MemoryDurability.Always);
        pair.AddNode("a", a);
        pair.AddNode("b", b);
        a.WriteLocal(MemorySyncStore.EncodeSet("doc", "v1"), T0.ToUnixTimeMilliseconds());
        pair.Sync("a");
        pair.Sync("b");
        Assert.Equal("v1", b.VisibleState()["register:doc"]);

        a.WriteLocal(MemorySyncStore.EncodeDelete("doc"), T0.ToUnixTimeMilliseconds() + 10);
        pair.Sync("a");
        pair.Leader.Tick(pair.Now + TimeSpan.FromSeconds(1));
        Assert.Equal(1, pair.LeaderStore.TombstoneCount); // b has not seen the delete: the tombstone stays

        // b stays away past the horizon; the leader purges without it.
        pair.Now += TimeSpan.FromMinutes(11);
        pair.Sync("a");
        pair.Leader.Tick(pair.Now);
        Assert.Equal(0, pair.LeaderStore.TombstoneCount);
        Assert.True(pair.LeaderStore.PurgedLsn > 0);

        // b comes back: it is behind the purge, so it gets a snapshot and "doc" does not come back.
        pair.Sync("b");
        Assert.DoesNotContain("register:doc", b.VisibleState().Keys);
        Assert.Equal(pair.LeaderStore.VisibleState(), b.VisibleState());
    }

    [Fact]
    public void ReceiveBytes_FrameFromANewerProtocolVersion_IsAnsweredWithUnsupportedVersionAndHaltsTheNode()
    {
        var pair = new SyncPair();
        byte[] bytes = SyncFrameCodec.Encode(Batch(NodeStore(7, 1), 1, 1));
        bytes[4] = SyncFrameCodec.CurrentVersion + 1;
        SyncActions actions = pair.Leader.ReceiveBytes(bytes, "n1", T0);
        ErrorFrame error = Assert.IsType<ErrorFrame>(Assert.Single(actions.Frames));
        Assert.Equal(SyncProtocolErrorCode.UnsupportedVersion, error.Code);
        Assert.Equal(1, pair.Leader.Counters.MalformedFrames);
        Assert.Equal(0, pair.LeaderStore.CounterTotal("c"));

        var node = new NodeSyncSession(NodeStore(7, 1), SyncPair.Fleet, "n1", SyncPair.Options);
        node.Receive(error, T0);
        Assert.True(node.IsHalted);
        Assert.Empty(node.RequestSync(SyncScope.All, T0).Frames);
        Assert.Equal(SyncProtocolErrorCode.UnsupportedVersion, node.GetStatus(T0).LastError?.Code);
    }

    [Fact]
    public void Snapshot_ReassembledWithTheWrongChecksum_IsDiscardedAndFetchedAgain()
    {
        var pair = new SyncPair();
        for (int i = 0; i < 100; i++)
        {
            pair.LeaderStore.WriteLocal(MemorySyncStore.EncodeSet("k" + i, "v" + i), T0.ToUnixTimeMilliseconds());
        }

        var store = new MemorySyncStore(9, isLeader: false, MemoryDurability.Always);
        NodeSyncSession node = pair.AddNode("n9", store);
        SyncActions first = node.RequestSync(SyncScope.All, T0);
        SnapshotChunkFrame[] chunks = [.. pair.Leader.Receive(first.Frames.OfType<PullFrame>().Single(), T0).Frames.OfType<SnapshotChunkFrame>()];
        Assert.True(chunks.Length >= 1);
        byte[] corrupt = chunks[0].Data.ToArray();
        corrupt[0] ^= 0xFF;
        var bad = new SnapshotChunkFrame
        {
            Fleet = SyncPair.Fleet, Node = "n9", Sender = 1, IsLast = true, SnapshotId = 77, SnapshotLsn = chunks[0].SnapshotLsn,
            Index = 0, Total = 1, TotalBytes = corrupt.Length, Checksum = chunks[0].Checksum, Data = corrupt,
        };
        SyncActions after = node.Receive(bad, T0);
        Assert.Equal(SyncProtocolErrorCode.SnapshotChecksumMismatch, node.GetStatus(T0).LastError?.Code);
        Assert.Null(store.PendingSnapshot);
        Assert.Equal(0, node.Counters.SnapshotsImported);
        PullFrame again = Assert.Single(after.Frames.OfType<PullFrame>());
        Assert.Equal(0ul, again.SnapshotId);

        pair.Run(after, "n9");
        Assert.Equal(pair.LeaderStore.VisibleState(), store.VisibleState());
    }
}
