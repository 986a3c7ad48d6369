namespace CortexEdge.Sync.Replication;

/// <summary>What a replication frame is.</summary>
public enum ReplicationFrameType : byte
{
    /// <summary>Replica -> leader: where the replica's log ends (a pull and an acknowledgement in one).</summary>
    Status = 1,

    /// <summary>Leader -> replica: consecutive WAL records, chained to the record before them (or an empty heartbeat).</summary>
    Batch = 2,

    /// <summary>Leader -> replica: one chunk of a state snapshot.</summary>
    SnapshotChunk = 3,
}

/// <summary>A decoded replication frame. Every frame carries the sender's log epoch.</summary>
/// <param name="Epoch">The sender's log epoch (a leader's stream is refused by replicas that know a newer one).</param>
public abstract record ReplicationFrame(ulong Epoch)
{
    /// <summary>The frame's type.</summary>
    public abstract ReplicationFrameType Type { get; }
}

/// <summary>Replica -> leader: the replica's position; the leader streams from <see cref="LastLsn"/> + 1.</summary>
/// <param name="Epoch">Newest epoch the replica knows.</param>
/// <param name="ReplicaName">The replica's name (1-64 bytes UTF-8).</param>
/// <param name="LastLsn">Last LSN in the replica's log.</param>
/// <param name="LastCrc">CRC of that record (0 at LSN 0).</param>
/// <param name="DurableLsn">Highest LSN durable on the replica (replica-durable acks count this).</param>
/// <param name="SnapshotId">Snapshot being received (0 none).</param>
/// <param name="SnapshotOffset">Bytes of it already staged (the next chunk's offset).</param>
/// <param name="Halted">The replica halted on divergence; the leader stops streaming to it.</param>
public sealed record ReplicaStatusFrame(ulong Epoch, string ReplicaName, long LastLsn, uint LastCrc, long DurableLsn, ulong SnapshotId, long SnapshotOffset, bool Halted)
    : ReplicationFrame(Epoch)
{
    /// <inheritdoc/>
    public override ReplicationFrameType Type => ReplicationFrameType.Status;
}

/// <summary>Leader -> replica: <see cref="RecordCount"/> encoded WAL records with LSNs <see cref="PrevLsn"/> + 1 onwards, verbatim.</summary>
/// <param name="Epoch">The leader's log epoch.</param>
/// <param name="LeaderLastLsn">The leader's last shippable (durable) LSN when sent (for lag).</param>
/// <param name="LeaderTimeMs">The leader's clock when sent, Unix ms (for lag in seconds).</param>
/// <param name="PrevLsn">LSN of the record before the first one here.</param>
/// <param name="PrevCrc">CRC of that record at the leader (0 at LSN 0).</param>
/// <param name="RecordCount">Records in <see cref="Records"/> (0 for a heartbeat).</param>
/// <param name="Records">The encoded records back to back, as in the leader's segments.</param>
public sealed record WalBatchFrame(ulong Epoch, long LeaderLastLsn, long LeaderTimeMs, long PrevLsn, uint PrevCrc, int RecordCount, ReadOnlyMemory<byte> Records)
    : ReplicationFrame(Epoch)
{
    /// <inheritdoc/>
    public override ReplicationFrameType Type => ReplicationFrameType.Batch;
}

/// <summary>Leader -> replica: bytes [<see cref="Offset"/>, +Data.Length) of snapshot <see cref="SnapshotId"/>.</summary>
/// <param name="Epoch">The leader's log epoch.</param>
/// <param name="SnapshotId">Identifies one snapshot (a new one restarts the transfer).</param>
/// <param name="SnapshotLsn">The LSN the snapshot covers; the stream continues at +1.</param>
/// <param name="AnchorCrc">CRC of the leader's record at <see cref="SnapshotLsn"/>.</param>
/// <param name="TotalBytes">Length of the whole snapshot.</param>
/// <param name="Checksum">CRC32C of the whole snapshot.</param>
/// <param name="Offset">Where <see cref="Data"/> starts.</param>
/// <param name="LeaderLastLsn">The leader's last shippable LSN when sent.</param>
/// <param name="Data">The chunk.</param>
public sealed record SnapshotChunkFrame(ulong Epoch, ulong SnapshotId, long SnapshotLsn, uint AnchorCrc, long TotalBytes, uint Checksum, long Offset, long LeaderLastLsn, ReadOnlyMemory<byte> Data)
    : ReplicationFrame(Epoch)
{
    /// <inheritdoc/>
    public override ReplicationFrameType Type => ReplicationFrameType.SnapshotChunk;
}
