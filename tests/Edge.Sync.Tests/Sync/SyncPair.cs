using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>A leader and nodes wired together with perfect, immediate delivery through the real codec; a frame filter can drop frames.</summary>
internal sealed class SyncPair
{
    public const string Fleet = "test";
    public static readonly SyncSessionOptions Options = new()
    {
        Limits = new SyncFrameLimits { FrameBytesMax = 4096, OpBytesMax = 1024 },
        SnapshotChunkBytes = 512,
        FramesPerPull = 2,
        PurgeInterval = TimeSpan.FromMilliseconds(1),
    };

    private readonly Dictionary<string, NodeSyncSession> _nodes = new(StringComparer.Ordinal);

    public SyncPair(MemoryDurability leaderDurability = MemoryDurability.Always, SyncSessionOptions? options = null)
    {
        SessionOptions = options ?? Options;
        LeaderStore = new MemorySyncStore(0x1EAD, isLeader: true, leaderDurability);
        Leader = new LeaderSyncSession(LeaderStore, Fleet, Now, SessionOptions);
    }

    public SyncSessionOptions SessionOptions { get; }

    public DateTimeOffset Now { get; set; } = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    public MemorySyncStore LeaderStore { get; }

    public LeaderSyncSession Leader { get; }

    public Func<SyncFrame, bool> Deliverable { get; set; } = _ => true;

    public List<SyncFrame> LeaderSent { get; } = [];

    public List<SyncFrame> NodeSent { get; } = [];

    public NodeSyncSession AddNode(string name, MemorySyncStore store)
    {
        var session = new NodeSyncSession(store, Fleet, name, SessionOptions);
        _nodes[name] = session;
        return session;
    }

    /// <summary>Delivers the node's actions and everything they cause until no frame is left.</summary>
    public void Run(SyncActions fromNode, string node)
    {
        var queue = new Queue<(bool ToLeader, byte[] Bytes, string Node)>();
        void Enqueue(SyncActions actions, bool toLeader, string name)
        {
            foreach (SyncFrame frame in actions.Frames)
            {
                (toLeader ? NodeSent : LeaderSent).Add(frame);
                if (Deliverable(frame))
                {
                    queue.Enqueue((toLeader, SyncFrameCodec.Encode(frame, SessionOptions.Limits), toLeader ? name : frame.Node));
                }
            }
        }

        Enqueue(fromNode, toLeader: true, node);
        for (int guard = 0; queue.Count > 0; guard++)
        {
            Assert.True(guard < 100_000, "frames kept flowing: the protocol does not go quiet");
            (bool toLeader, byte[] bytes, string name) = queue.Dequeue();
            if (toLeader)
            {
                Enqueue(Leader.ReceiveBytes(bytes, name, Now), toLeader: false, name);
                LeaderStore.Flush();
                Enqueue(Leader.Tick(Now), toLeader: false, name);
            }
            else
            {
                Enqueue(_nodes[name].ReceiveBytes(bytes, Now), toLeader: true, name);
            }
        }
    }

    public void Sync(string node) => Run(_nodes[node].RequestSync(SyncScope.All, Now), node);
}
