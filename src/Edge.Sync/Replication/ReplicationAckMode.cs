namespace CortexEdge.Sync.Replication;

/// <summary>When a write at the leader counts as acknowledged.</summary>
public enum ReplicationAckMode
{
    /// <summary>Once durable in the leader's own WAL (default): replicas follow asynchronously.</summary>
    LocalDurable,

    /// <summary>Once durable at the leader AND reported durable by <see cref="ReplicationLeaderOptions.AckReplicaCount"/> replicas, within <see cref="ReplicationLeaderOptions.AckTimeout"/>.</summary>
    ReplicaDurable,
}

/// <summary>Options of the <see cref="ReplicationLeader"/> service.</summary>
public sealed class ReplicationLeaderOptions
{
    /// <summary>This leader's name in the leadership record (default "leader").</summary>
    public string LeaderName { get; init; } = "leader";

    /// <summary>Acknowledgement mode of <see cref="ReplicationLeader.AcknowledgeAsync"/> (default <see cref="ReplicationAckMode.LocalDurable"/>).</summary>
    public ReplicationAckMode AckMode { get; init; } = ReplicationAckMode.LocalDurable;

    /// <summary>Replicas that must hold a write durably in <see cref="ReplicationAckMode.ReplicaDurable"/> (default 1).</summary>
    public int AckReplicaCount { get; init; } = 1;

    /// <summary>Longest wait for replicas in <see cref="ReplicationAckMode.ReplicaDurable"/> (default 5 s); past it the ack fails.</summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Protocol limits and timings.</summary>
    public ReplicationOptions Protocol { get; init; } = new();

    /// <summary>How long the leader listens for a retained newer leadership record before it claims leadership (default 500 ms).</summary>
    public TimeSpan LeadershipWait { get; init; } = TimeSpan.FromMilliseconds(500);
}
