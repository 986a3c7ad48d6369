namespace CortexEdge.Sync.Replication;

/// <summary>Base of every error replication raises on purpose; <see cref="Code"/> says what went wrong.</summary>
public class ReplicationException : Exception
{
    /// <summary>Creates the error.</summary>
    public ReplicationException(ReplicationErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>What went wrong.</summary>
    public ReplicationErrorCode Code { get; }
}

/// <summary>
/// The replica's log and the leader's disagree. Names both positions; the replica halts and applies
/// nothing more until an operator resyncs it. Never healed automatically.
/// </summary>
public sealed class ReplicationDivergenceException : ReplicationException
{
    /// <summary>Creates the error.</summary>
    /// <param name="replicaLsn">The replica's position involved (its last LSN, or the LSN it holds differently).</param>
    /// <param name="replicaCrc">The replica's CRC at <paramref name="replicaLsn"/> (0 when it holds none).</param>
    /// <param name="leaderLsn">The leader's position the batch names.</param>
    /// <param name="leaderCrc">The CRC the leader names for <paramref name="leaderLsn"/>.</param>
    /// <param name="reason">What disagrees.</param>
    public ReplicationDivergenceException(long replicaLsn, uint replicaCrc, long leaderLsn, uint leaderCrc, string reason)
        : base(ReplicationErrorCode.Divergence,
            $"replication divergence: {reason} (replica at LSN {replicaLsn} CRC 0x{replicaCrc:x8}, leader names LSN {leaderLsn} CRC 0x{leaderCrc:x8}); the replica halted and applies nothing more; run 'cortex-edge replica resync' to rebuild it from a snapshot")
    {
        ReplicaLsn = replicaLsn;
        ReplicaCrc = replicaCrc;
        LeaderLsn = leaderLsn;
        LeaderCrc = leaderCrc;
    }

    /// <summary>The replica's position.</summary>
    public long ReplicaLsn { get; }

    /// <summary>The replica's CRC there.</summary>
    public uint ReplicaCrc { get; }

    /// <summary>The leader's position.</summary>
    public long LeaderLsn { get; }

    /// <summary>The leader's CRC there.</summary>
    public uint LeaderCrc { get; }
}
