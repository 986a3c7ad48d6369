namespace CortexEdge.Sync.Replication;

/// <summary>Why replication failed. 100-wide ranges per concept; replication owns 1000-1099.</summary>
public enum ReplicationErrorCode
{
    /// <summary>Not classified.</summary>
    Unknown = 0,

    /// <summary>A frame is malformed, truncated, over a limit or fails its checksum.</summary>
    FrameMalformed = 1000,

    /// <summary>A frame carries a format version this build does not read.</summary>
    FrameVersionUnsupported = 1001,

    /// <summary>The replica's history and the leader's disagree (chain CRC mismatch, forged record, unverifiable record): the replica halted.</summary>
    Divergence = 1002,

    /// <summary>This node is not (or no longer) the leader: a newer epoch exists.</summary>
    NotLeader = 1003,

    /// <summary>Replica-durable acknowledgement did not gather enough replicas in time.</summary>
    ReplicaAckTimeout = 1004,

    /// <summary>A snapshot transfer failed verification (checksum mismatch) more often than allowed.</summary>
    SnapshotRejected = 1005,

    /// <summary>The replica is halted; operator action (<c>cortex-edge replica resync</c>) is needed.</summary>
    ReplicaHalted = 1006,
}
