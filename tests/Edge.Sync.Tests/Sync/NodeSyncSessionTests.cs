using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Sync.Tests.Sync;

public sealed class NodeSyncSessionTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    [Fact]
    public void Upload_OpsNotYetDurableLocally_AreNotSent()
    {
        var store = new MemorySyncStore(7, isLeader: false, MemoryDurability.OnFlush);
        store.WriteLocal(MemorySyncStore.EncodeAdd("c", 1), T0.ToUnixTimeMilliseconds());
        var node = new NodeSyncSession(store, "f", "n", SyncPair.Options);
        Assert.Empty(node.RequestSync(SyncScope.All, T0).Frames.OfType<UploadBatchFrame>());

        store.Flush();
        UploadBatchFrame batch = Assert.Single(node.NotifyLocalWrite(T0).Frames.OfType<UploadBatchFrame>());
        Assert.Equal(1, batch.FirstSeq);
    }

    [Fact]
    public void Upload_LargeBacklog_IsSplitIntoFramesUnderTheSizeLimitWithinTheWindow()
    {
        var store = new MemorySyncStore(7, isLeader: false, MemoryDurability.Always);
        var random = new Random(3);
        for (int i = 0; i < 3000; i++)
        {
            store.WriteLocal(MemorySyncStore.EncodeSet("k" + i, Convert.ToHexString(BitConverter.GetBytes(random.NextInt64()))), T0.ToUnixTimeMilliseconds());
        }

        var node = new NodeSyncSession(store, "f", "n", SyncPair.Options);
        List<UploadBatchFrame> frames = [.. node.RequestSync(SyncScope.All, T0).Frames.OfType<UploadBatchFrame>()];
        Assert.Equal(SyncPair.Options.UploadWindowFrames, frames.Count);
        long expectedFirst = 1;
        foreach (UploadBatchFrame frame in frames)
        {
            Assert.Equal(expectedFirst, frame.FirstSeq);
            Assert.True(SyncFrameCodec.Encode(frame, SyncPair.Options.Limits).Length <= SyncPair.Options.Limits.FrameBytesMax);
            expectedFirst = frame.LastSeq + 1;
        }
    }

    [Fact]
    public void Upload_NoAcknowledgement_IsRetriedFromTheCursorWithGrowingBackoff()
    {
        var store = new MemorySyncStore(7, isLeader: false, MemoryDurability.Always);
        store.WriteLocal(MemorySyncStore.EncodeAdd("c", 1), T0.ToUnixTimeMilliseconds());
        var options = new SyncSessionOptions { ResponseTimeout = TimeSpan.FromSeconds(1), RetryDelay = TimeSpan.FromSeconds(1), RetryDelayMax = TimeSpan.FromSeconds(30) };
        var node = new NodeSyncSession(store, "f", "n", options);
        node.RequestSync(SyncScope.PriorityOnly, T0);
        node.RequestSync(SyncScope.All, T0);
        DateTimeOffset now = T0;
        var gaps = new List<TimeSpan>();
        DateTimeOffset lastSend = T0;
        for (int attempt = 0; attempt < 6; attempt++)
        {
            DateTimeOffset wake = node.NextWakeAt ?? throw new InvalidOperationException("a session with unacknowledged ops must wake up on its own");
            Assert.True(wake > now);
            now = wake;
            SyncActions actions = node.Tick(now);
            if (actions.Frames.OfType<UploadBatchFrame>().Any())
            {
                gaps.Add(now - lastSend);
                lastSend = now;
            }
        }

        Assert.True(gaps.Count >= 2, "the upload was not retried");
        Assert.True(gaps[^1] > gaps[0], $"retry gaps did not grow: {string.Join(", ", gaps)}");
        Assert.Equal(SyncProtocolErrorCode.Timeout, node.GetStatus(now).LastError?.Code);
    }

    [Fact]
    public void PriorityOnly_UploadsThroughTheLastPriorityOpAndSkipsTheDownload()
    {
        var pair = new SyncPair();
        var store = new MemorySyncStore(7, isLeader: false, MemoryDurability.Always);
        long t = T0.ToUnixTimeMilliseconds();
        store.WriteLocal(MemorySyncStore.EncodeAdd("bulk", 1), t);
        store.WriteLocal(MemorySyncStore.EncodeAdd("alarm", 1), t, SyncOpFlags.Priority);
        store.WriteLocal(MemorySyncStore.EncodeAdd("bulk", 1), t);
        store.WriteLocal(MemorySyncStore.EncodeAdd("bulk", 1), t);
        NodeSyncSession node = pair.AddNode("n", store);

        SyncStatus before = node.GetStatus(pair.Now);
        Assert.Equal(1, before.Backlog.Priority.Ops);
        Assert.Equal(3, before.Backlog.Normal.Ops);

        pair.Run(node.RequestSync(SyncScope.PriorityOnly, pair.Now), "n");
        Assert.True(node.IsRoundComplete);
        Assert.Equal(2, store.UploadCursor);
        Assert.Equal(1, pair.LeaderStore.CounterTotal("alarm"));
        Assert.Empty(pair.NodeSent.OfType<PullFrame>());
        SyncStatus after = node.GetStatus(pair.Now);
        Assert.Equal(0, after.Backlog.Priority.Ops);
        Assert.Equal(2, after.Backlog.Normal.Ops);
    }

    [Fact]
    public void Sync_BothDirectionsDone_ReportsIdleOnceAndSendsNothingMore()
    {
        var pair = new SyncPair();
        var store = new MemorySyncStore(7, isLeader: false, MemoryDurability.Always);
        store.WriteLocal(MemorySyncStore.EncodeAdd("c", 1), T0.ToUnixTimeMilliseconds());
        NodeSyncSession node = pair.AddNode("n", store);
        pair.LeaderStore.WriteLocal(MemorySyncStore.EncodeAdd("c", 5), T0.ToUnixTimeMilliseconds());
        pair.Sync("n");

        Assert.True(node.IsIdle);
        Assert.True(node.IsRoundComplete);
        Assert.Equal(6, store.CounterTotal("c"));
        SyncStatus status = node.GetStatus(pair.Now);
        Assert.Equal(0, status.LagOps);
        Assert.NotNull(status.LastUploadAt);
        Assert.NotNull(status.LastDownloadAt);
        Assert.Null(node.NextWakeAt);
        Assert.True(node.Tick(pair.Now + TimeSpan.FromHours(1)).IsEmpty);
    }

    [Fact]
    public void LeaderWrite_AfterTheNodeWentIdle_IsAnnouncedAndPulled()
    {
        var pair = new SyncPair();
        var store = new MemorySyncStore(7, isLeader: false, MemoryDurability.Always);
        NodeSyncSession node = pair.AddNode("n", store);
        pair.Sync("n");
        Assert.True(node.IsIdle);

        pair.LeaderStore.WriteLocal(MemorySyncStore.EncodeSet("k", "v"), T0.ToUnixTimeMilliseconds());
        SyncActions notice = pair.Leader.Tick(pair.Now);
        StatusFrame status = Assert.IsType<StatusFrame>(Assert.Single(notice.Frames));
        Assert.Equal(SyncStatusKind.NewData, status.Kind);
        pair.Run(node.Receive(status, pair.Now), "n");
        Assert.Equal("v", store.VisibleState()["register:k"]);
        Assert.True(node.IsIdle);
    }

    [Fact]
    public void ReceiveBytes_GarbageFromTheLeader_IsCountedAndReportedNotThrown()
    {
        var store = new MemorySyncStore(7, isLeader: false, MemoryDurability.Always);
        var node = new NodeSyncSession(store, "f", "n", SyncPair.Options);
        SyncActions actions = node.ReceiveBytes([1, 2, 3, 4, 5, 6], T0);
        Assert.Equal(1, node.Counters.FramesRejected);
        Assert.Contains(actions.Events, e => e.Kind == SyncEventKind.Error);
        Assert.NotNull(node.GetStatus(T0).LastError);
    }
}
