using CortexEdge.Core;
using CortexEdge.Core.Documents;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>
/// A leader session over a real <see cref="EdgeDatabase"/> and node sessions over real databases,
/// wired through the real codec with immediate delivery on a test-controlled clock (no broker):
/// what the snapshot and purge tests need to cut transfers and age nodes deterministically.
/// </summary>
internal sealed class DatabaseSyncHarness : IDisposable
{
    /// <summary>The visible state to compare replicas by: every document of <paramref name="collection"/> and every series' readings.</summary>
    public static System.Text.StringBuilder Render(EdgeDatabase db, string collection)
    {
        var text = new System.Text.StringBuilder();
        foreach (EdgeDocument document in db.Scan(collection))
        {
            text.Append(document.Key).Append('=').Append(document.ToJsonString()).Append('\n');
        }

        foreach (TimeSeriesInfo series in db.ListSeries().OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            text.Append(series.Name).Append(':');
            foreach (TimeSeriesReading reading in db.ReadRange(series.Name, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax))
            {
                text.Append(reading.Timestamp).Append('/').Append(reading.Value).Append(' ');
            }

            text.Append('\n');
        }

        return text;
    }

    public const string Fleet = "snapfleet";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-snapsync-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);

    public DatabaseSyncHarness(SyncSessionOptions options, long logRetentionRecords = 0)
    {
        Options = options;
        LeaderDb = DatabaseSnapshotSyncTests.Declare(EdgeDatabase.Open(Path.Combine(_root, "leader"), SmallLog(node: false)));
        LeaderStore = new EdgeDatabaseLeaderStore(LeaderDb) { LogRetentionRecords = logRetentionRecords };
        Leader = new LeaderSyncSession(LeaderStore, Fleet, Now, options);
    }

    public SyncSessionOptions Options { get; }

    public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

    public EdgeDatabase LeaderDb { get; }

    public EdgeDatabaseLeaderStore LeaderStore { get; }

    public LeaderSyncSession Leader { get; }

    /// <summary>Whether a frame is delivered (a dropped frame is still recorded as sent).</summary>
    public Func<SyncFrame, bool> Deliverable { get; set; } = _ => true;

    public List<SyncFrame> LeaderSent { get; } = [];

    /// <summary>Small WAL segments and frequent checkpoints, so a retention bound trims the log quickly; nodes keep unsynced ops, the leader does not.</summary>
    public static EdgeDatabaseOptions SmallLog(bool node = true) => new()
    {
        Durability = WalDurability.Always, WalSegmentBytes = 64 * 1024, CheckpointRecordCount = 64, RetainUnsyncedOps = node,
    };

    /// <summary>Opens (or reopens) node <paramref name="name"/>'s database with a new store and session; <see cref="SmallLog"/> unless <paramref name="options"/> are given.</summary>
    public Node OpenNode(string name, EdgeDatabaseOptions? options = null)
    {
        CloseNode(name);
        EdgeDatabase db = DatabaseSnapshotSyncTests.Declare(EdgeDatabase.Open(Path.Combine(_root, name), options ?? SmallLog()));
        var store = new EdgeDatabaseSyncStore(db);
        var node = new Node(name, db, store, new NodeSyncSession(store, Fleet, name, Options));
        _nodes[name] = node;
        return node;
    }

    /// <summary>Closes node <paramref name="name"/> as a restart would (session state is lost; the database keeps what it made durable).</summary>
    public void CloseNode(string name)
    {
        if (_nodes.Remove(name, out Node? node))
        {
            node.Db.Dispose();
        }
    }

    /// <summary>One sync round of <paramref name="node"/>: retries on the test clock until the round completes or <paramref name="roundsMax"/> timeouts pass.</summary>
    /// <returns>true when the round completed.</returns>
    public bool Sync(Node node, int roundsMax = 20)
    {
        Run(node, node.Session.RequestSync(SyncScope.All, Now));
        for (int i = 0; i < roundsMax && !node.Session.IsRoundComplete; i++)
        {
            Now += Options.ResponseTimeout + Options.RetryDelayMax;
            Run(node, node.Session.Tick(Now));
        }

        return node.Session.IsRoundComplete;
    }

    /// <summary>Lets the leader run its periodic work (acks, notices, tombstone purge).</summary>
    public void TickLeader()
    {
        LeaderDb.FlushAsync().AsTask().GetAwaiter().GetResult();
        Leader.Tick(Now);
    }

    /// <summary>Delivers <paramref name="fromNode"/> and everything it causes until no frame is left.</summary>
    public void Run(Node node, SyncActions fromNode)
    {
        var queue = new Queue<(bool ToLeader, byte[] Bytes)>();
        void Enqueue(SyncActions actions, bool toLeader)
        {
            foreach (SyncFrame frame in actions.Frames)
            {
                if (!toLeader)
                {
                    LeaderSent.Add(frame);
                }

                if (Deliverable(frame))
                {
                    queue.Enqueue((toLeader, SyncFrameCodec.Encode(frame, Options.Limits)));
                }
            }
        }

        Enqueue(fromNode, toLeader: true);
        for (int guard = 0; queue.Count > 0; guard++)
        {
            Assert.True(guard < 1_000_000, "frames kept flowing: the protocol does not go quiet");
            (bool toLeader, byte[] bytes) = queue.Dequeue();
            if (toLeader)
            {
                Enqueue(Leader.ReceiveBytes(bytes, node.Name, Now), toLeader: false);
                LeaderDb.FlushAsync().AsTask().GetAwaiter().GetResult();
                Enqueue(Leader.Tick(Now), toLeader: false);
            }
            else
            {
                Enqueue(node.Session.ReceiveBytes(bytes, Now), toLeader: true);
            }
        }
    }

    public void Dispose()
    {
        foreach (string name in _nodes.Keys.ToArray())
        {
            CloseNode(name);
        }

        LeaderDb.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>A node: its database, store and session.</summary>
    internal sealed record Node(string Name, EdgeDatabase Db, EdgeDatabaseSyncStore Store, NodeSyncSession Session);
}
