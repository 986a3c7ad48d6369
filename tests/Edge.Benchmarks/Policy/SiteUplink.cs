using CortexEdge.Agent.Policy;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Benchmarks.Policy;

/// <summary>
/// One simulated node's upload side: the unsent own ops in origin order, and bursts that send a
/// prefix of them as real upload frames (<see cref="SyncFrameCodec"/>, LZ4 above 128 bytes), split
/// like the node session splits them. Records bursts, frames, bytes and per-priority staleness.
/// </summary>
internal sealed class SiteUplink
{
    private const string Fleet = "site";
    private const string Node = "gw-1";
    private readonly List<PendingOp> _pending = [];
    private readonly SyncFrameLimits _limits = SyncFrameLimits.Default;
    private readonly int _bodyBudget;
    private readonly int[] _blockedBefore;
    private long _nextSeq = 1;

    /// <param name="blockedBefore">Per second, how many seconds before it had no link or a critical battery (to tell waits the policy chose from waits it could not avoid).</param>
    public SiteUplink(int[] blockedBefore)
    {
        _blockedBefore = blockedBefore;
        _bodyBudget = _limits.FrameBytesMax - SyncFrameCodec.HeaderAndChecksumBytes(Fleet, Node) - SyncFrameCodec.BatchPrefixBytesMax;
    }

    public long Bursts { get; private set; }
    public long Frames { get; private set; }
    public long BytesSent { get; private set; }
    public long OpsWritten { get; private set; }
    public long OpsSent { get; private set; }
    public int PendingCount => _pending.Count;

    /// <summary>Pending ops per priority (index = <see cref="SyncPriority"/>).</summary>
    public int[] PendingByPriority { get; } = new int[3];

    /// <summary>Worst wait from write to send per priority (index = <see cref="SyncPriority"/>), in seconds.</summary>
    public int[] WorstStaleness { get; } = new int[3];

    /// <summary>The same without the seconds that had no link or a critical battery: what the policy chose.</summary>
    public int[] WorstChosenStaleness { get; } = new int[3];

    /// <summary>Queues an op written at <paramref name="second"/>.</summary>
    public void Write(SyncPriority priority, ulong origin, ulong hlc, byte[] payload, int second)
    {
        SyncOpFlags flags = priority == SyncPriority.High ? SyncOpFlags.Priority : SyncOpFlags.None;
        _pending.Add(new PendingOp(priority, second, new SyncOp(origin, _nextSeq++, hlc, flags, payload)));
        PendingByPriority[(int)priority]++;
        OpsWritten++;
    }

    /// <summary>The backlog per priority at <paramref name="second"/>, as the sync layer reports it.</summary>
    public BacklogSnapshot Backlog(int second, long quotaBytes)
    {
        Span<long> ops = stackalloc long[3];
        Span<long> bytes = stackalloc long[3];
        Span<int> oldest = [-1, -1, -1];
        foreach (PendingOp op in _pending)
        {
            int p = (int)op.Priority;
            ops[p]++;
            bytes[p] += op.Op.Payload.Length;
            if (oldest[p] < 0)
                oldest[p] = op.WrittenAt;
        }

        var stats = new BacklogPriorityStats[3];
        long total = 0;
        for (int p = 0; p < 3; p++)
        {
            stats[p] = new BacklogPriorityStats((SyncPriority)p, ops[p], bytes[p], ops[p] == 0 ? null : TimeSpan.FromSeconds(second - oldest[p]));
            total += bytes[p];
        }

        return new BacklogSnapshot(stats, total, quotaBytes);
    }

    /// <summary>
    /// Sends at <paramref name="second"/>: everything (<paramref name="priorityOnly"/> false), or
    /// every op up to the last priority op (the exactly-once rule keeps origin order, so ordinary
    /// ops written before it go too). Returns whether anything was sent.
    /// </summary>
    public bool Burst(int second, bool priorityOnly)
    {
        int count = _pending.Count;
        if (priorityOnly)
        {
            count = _pending.FindLastIndex(op => op.Priority == SyncPriority.High) + 1;
        }

        if (count == 0)
        {
            return false;
        }

        Bursts++;
        int index = 0;
        while (index < count)
        {
            var ops = new List<SyncOp>();
            int body = 0;
            while (index < count && ops.Count < _limits.OpsPerBatchMax)
            {
                int size = SyncFrameCodec.UploadOpBytes(_pending[index].Op);
                if (ops.Count > 0 && body + size > _bodyBudget)
                    break;
                ops.Add(_pending[index].Op);
                body += size;
                index++;
            }

            byte[] frame = SyncFrameCodec.Encode(new UploadBatchFrame
            {
                Fleet = Fleet, Node = Node, Sender = ops[0].Origin, Origin = ops[0].Origin, FirstSeq = ops[0].Seq, Ops = ops,
            });
            Frames++;
            BytesSent += frame.Length;
        }

        for (int i = 0; i < count; i++)
        {
            PendingOp op = _pending[i];
            int p = (int)op.Priority;
            int waited = second - op.WrittenAt;
            WorstStaleness[p] = Math.Max(WorstStaleness[p], waited);
            WorstChosenStaleness[p] = Math.Max(WorstChosenStaleness[p], waited - (_blockedBefore[second] - _blockedBefore[op.WrittenAt]));
            PendingByPriority[p]--;
        }

        // Nothing lost, nothing twice: what leaves is always the oldest unsent prefix, in sequence.
        if (_pending[0].Op.Seq != OpsSent + 1)
            throw new InvalidOperationException($"burst starts at seq {_pending[0].Op.Seq}, expected {OpsSent + 1}");
        OpsSent += count;
        _pending.RemoveRange(0, count);
        return true;
    }

    private readonly record struct PendingOp(SyncPriority Priority, int WrittenAt, SyncOp Op);
}
