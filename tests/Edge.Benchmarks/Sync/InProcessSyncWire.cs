using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;

namespace CortexEdge.Benchmarks.Sync;

/// <summary>
/// Runs node and leader sessions against each other in one process: every frame is encoded and
/// decoded by the real codec and its bytes counted, but no broker or socket is involved (the
/// simulated transport of the sync benchmarks).
/// </summary>
internal sealed class InProcessSyncWire(LeaderSyncSession leader, Action flushLeader)
{
    private readonly Dictionary<string, NodeSyncSession> _nodes = new(StringComparer.Ordinal);

    public long BytesUp { get; private set; }

    public long BytesDown { get; private set; }

    public long Frames { get; private set; }

    public void Add(NodeSyncSession node) => _nodes[node.NodeName] = node;

    public void ResetCounters()
    {
        BytesUp = 0;
        BytesDown = 0;
        Frames = 0;
    }

    public void Run(string node, SyncActions first, DateTimeOffset now)
    {
        var queue = new Queue<(bool ToLeader, byte[] Bytes, string Node)>();
        void Enqueue(SyncActions actions, bool toLeader, string name)
        {
            foreach (SyncFrame frame in actions.Frames)
            {
                byte[] bytes = SyncFrameCodec.Encode(frame);
                Frames++;
                if (toLeader)
                {
                    BytesUp += bytes.Length;
                }
                else
                {
                    BytesDown += bytes.Length;
                }

                queue.Enqueue((toLeader, bytes, toLeader ? name : frame.Node));
            }
        }

        Enqueue(first, toLeader: true, node);
        while (queue.Count > 0)
        {
            (bool toLeader, byte[] bytes, string name) = queue.Dequeue();
            if (toLeader)
            {
                Enqueue(leader.ReceiveBytes(bytes, name, now), toLeader: false, name);
                flushLeader();
                Enqueue(leader.Tick(now), toLeader: false, name);
            }
            else if (_nodes.TryGetValue(name, out NodeSyncSession? target))
            {
                Enqueue(target.ReceiveBytes(bytes, now), toLeader: true, name);
            }

            // A frame for a node not on this wire (a notice to a node known from the leader's bindings) is dropped, as a broker with no subscriber would.
        }
    }
}
