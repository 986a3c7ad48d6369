namespace CortexEdge.Sync.Replication;

/// <summary>Limits and timings of leader -> replica replication. Times are in milliseconds of the caller's clock.</summary>
public sealed class ReplicationOptions
{
    /// <summary>Most records in one batch (default 512).</summary>
    public int BatchRecordCountMax { get; init; } = 512;

    /// <summary>Most uncompressed record bytes in one batch (default 256 KiB; a larger single record travels alone).</summary>
    public int BatchBytesMax { get; init; } = 256 << 10;

    /// <summary>Most records sent to a replica beyond what it acknowledged (default 4096).</summary>
    public int WindowRecordCountMax { get; init; } = 4096;

    /// <summary>Snapshot chunk size in bytes (default 256 KiB).</summary>
    public int SnapshotChunkBytes { get; init; } = 256 << 10;

    /// <summary>Snapshot chunks in flight beyond what the replica acknowledged (default 4).</summary>
    public int SnapshotWindowChunkCountMax { get; init; } = 4;

    /// <summary>Without progress for this long the leader resends from the replica's acknowledged position (default 1000 ms).</summary>
    public long RetransmitIntervalMs { get; init; } = 1000;

    /// <summary>An idle leader sends an empty batch this often (default 500 ms): epoch, lag and liveness.</summary>
    public long HeartbeatIntervalMs { get; init; } = 500;

    /// <summary>A replica reports its position at least this often (default 250 ms).</summary>
    public long StatusIntervalMs { get; init; } = 250;

    /// <summary>
    /// The leader keeps WAL records for a replica at most this many records behind its end (default
    /// 1,000,000); a replica further behind stops holding the log back and catches up by snapshot.
    /// </summary>
    public long RetentionRecordCountMax { get; init; } = 1_000_000;

    /// <summary>Most replicas one leader tracks (default 64); statuses from more are counted and ignored.</summary>
    public int ReplicaCountMax { get; init; } = 64;

    /// <summary>Snapshot transfers failing verification before the replica halts (default 3).</summary>
    public int SnapshotAttemptCountMax { get; init; } = 3;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchRecordCountMax, 1, nameof(BatchRecordCountMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchBytesMax, 64, nameof(BatchBytesMax));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchBytesMax, ReplicationFrameCodec.BatchRawBytesMax / 2, nameof(BatchBytesMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(WindowRecordCountMax, BatchRecordCountMax, nameof(WindowRecordCountMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(SnapshotChunkBytes, 1, nameof(SnapshotChunkBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(SnapshotChunkBytes, ReplicationFrameCodec.FrameBytesMax / 2, nameof(SnapshotChunkBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(SnapshotWindowChunkCountMax, 1, nameof(SnapshotWindowChunkCountMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetransmitIntervalMs, 1, nameof(RetransmitIntervalMs));
        ArgumentOutOfRangeException.ThrowIfLessThan(HeartbeatIntervalMs, 1, nameof(HeartbeatIntervalMs));
        ArgumentOutOfRangeException.ThrowIfLessThan(StatusIntervalMs, 1, nameof(StatusIntervalMs));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetentionRecordCountMax, 1, nameof(RetentionRecordCountMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReplicaCountMax, 1, nameof(ReplicaCountMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(SnapshotAttemptCountMax, 1, nameof(SnapshotAttemptCountMax));
    }
}
