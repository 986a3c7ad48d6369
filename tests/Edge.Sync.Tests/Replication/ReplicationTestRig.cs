using CortexEdge.Sync.Replication;

namespace CortexEdge.Sync.Tests.Replication;

/// <summary>A leader and replicas over a perfect in-order network, for the scripted protocol tests.</summary>
internal sealed class ReplicationTestRig
{
    private readonly List<OutgoingFrame> _leaderOutput = [];
    private readonly List<byte[]> _replicaOutput = [];

    public ReplicationTestRig(ReplicationOptions? options = null)
    {
        Options = options ?? new ReplicationOptions { BatchRecordCountMax = 4, WindowRecordCountMax = 64, SnapshotChunkBytes = 32, RetentionRecordCountMax = 1000 };
        Leader = new ReplicationLeaderProtocol(Log, Options);
        Replica = new ReplicaProtocol(Store, "r1", Options);
    }

    public ReplicationOptions Options { get; }

    public MemoryReplicationLog Log { get; } = new();

    public MemoryReplicaStore Store { get; } = new();

    public ReplicationLeaderProtocol Leader { get; set; }

    public ReplicaProtocol Replica { get; set; }

    public long Now { get; private set; }

    public List<byte[]> ToReplica { get; } = [];

    public void AdvanceTime(long ms) => Now += ms;

    public void Write(int count)
    {
        for (int i = 0; i < count; i++)
        {
            Log.Append((byte)(Log.LastLsn % 16), Log.LastLsn * 31);
        }

        Log.DurableLsn = Log.LastLsn;
    }

    /// <summary>Runs the exchange for <paramref name="steps"/> ticks of 10 ms; frames to the replica pass <paramref name="tamper"/> first.</summary>
    public void Run(int steps, Func<byte[], byte[]?>? tamper = null)
    {
        for (int s = 0; s < steps; s++)
        {
            Now += 10;
            Replica.Tick(Now, _replicaOutput);
            Leader.Tick(Now, _leaderOutput);
            for (int round = 0; round < 64 && (_replicaOutput.Count > 0 || _leaderOutput.Count > 0); round++)
            {
                foreach (byte[] frame in _replicaOutput.ToList())
                {
                    Leader.Receive(frame, Now, _leaderOutput);
                }

                _replicaOutput.Clear();
                foreach (OutgoingFrame frame in _leaderOutput.ToList())
                {
                    byte[]? delivered = tamper is null ? frame.Frame : tamper(frame.Frame);
                    if (delivered is not null)
                    {
                        ToReplica.Add(delivered);
                        Replica.Receive(delivered, Now, _replicaOutput);
                    }
                }

                _leaderOutput.Clear();
            }
        }
    }
}
