using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Sync.Tests.Sync;

public sealed class SyncTopicsTests
{
    [Fact]
    public void ForFrame_RoutesEachFrameTypeToItsDesignTopic()
    {
        var status = new StatusFrame { Fleet = "f", Node = "gw", Sender = 1, Kind = SyncStatusKind.UpToDate, HeadLsn = 0 };
        var ack = new AckFrame { Fleet = "f", Node = "gw", Sender = 1, Origin = 2, AckedSeq = 1 };
        var pull = new PullFrame { Fleet = "f", Node = "gw", Sender = 2, AfterLsn = 0 };
        var upload = new UploadBatchFrame { Fleet = "f", Node = "gw", Sender = 2, Origin = 2, FirstSeq = 1, Ops = [] };
        Assert.Equal("ce/f/down/gw", SyncTopics.ForFrame("f", status));
        Assert.Equal("ce/f/ack/gw", SyncTopics.ForFrame("f", ack));
        Assert.Equal("ce/f/pull/gw", SyncTopics.ForFrame("f", pull));
        Assert.Equal("ce/f/up/gw", SyncTopics.ForFrame("f", upload));
        Assert.True(SyncTopics.TryParseNode("ce/f/up/gw", "f", out string node));
        Assert.Equal("gw", node);
        Assert.False(SyncTopics.TryParseNode("ce/other/up/gw", "f", out _));
        Assert.False(SyncTopics.TryParseNode("ce/f/up/", "f", out _));
        Assert.Equal(SyncProtocolErrorCode.InvalidName, Assert.Throws<SyncProtocolException>(() => SyncTopics.Up("f", "a/b")).Code);
    }

    [Fact]
    public void LeaderReceiveBytes_FrameNamingAnotherNodeThanItsTopic_IsRefused()
    {
        var store = new MemorySyncStore(1, isLeader: true, MemoryDurability.Always);
        var leader = new LeaderSyncSession(store, "f", DateTimeOffset.UnixEpoch);
        byte[] bytes = SyncFrameCodec.Encode(new PullFrame { Fleet = "f", Node = "victim", Sender = 66, AfterLsn = 0 });
        SyncActions actions = leader.ReceiveBytes(bytes, "intruder", DateTimeOffset.UnixEpoch);
        ErrorFrame error = Assert.IsType<ErrorFrame>(Assert.Single(actions.Frames));
        Assert.Equal(SyncProtocolErrorCode.NodeIdentityMismatch, error.Code);
        Assert.Equal("intruder", error.Node);
        Assert.Empty(store.BoundNodes);
    }
}
