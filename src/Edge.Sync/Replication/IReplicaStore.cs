namespace CortexEdge.Sync.Replication;

/// <summary>
/// The replica's log and state as the replication protocol sees it. The real one is
/// <see cref="EdgeDatabaseReplicaStore"/>; simulations use an in-memory one. Called from one thread
/// at a time.
/// </summary>
public interface IReplicaStore
{
    /// <summary>Newest epoch this replica has accepted (durable).</summary>
    ulong Epoch { get; }

    /// <summary>Last LSN in the replica's log (0 when empty).</summary>
    long LastLsn { get; }

    /// <summary>Highest LSN durable on the replica.</summary>
    long DurableLsn { get; }

    /// <summary>CRC of the replica's record at <paramref name="lsn"/> (0 at LSN 0); false when not held (trimmed or absent).</summary>
    bool TryGetCrc(long lsn, out uint crc);

    /// <summary>Appends one verified encoded record with LSN <see cref="LastLsn"/> + 1 verbatim and applies it to the state.</summary>
    void Append(ReadOnlySpan<byte> encodedRecord);

    /// <summary>Records (durably) that the replica now follows <paramref name="epoch"/>.</summary>
    void AdvanceEpoch(ulong epoch);

    /// <summary>Id of the snapshot being staged (0 none).</summary>
    ulong StagedSnapshotId { get; }

    /// <summary>Bytes of it staged so far.</summary>
    long StagedSnapshotBytes { get; }

    /// <summary>CRC32C of the staged bytes.</summary>
    uint StagedSnapshotChecksum { get; }

    /// <summary>Appends a chunk at <paramref name="offset"/> (starting a new staging when <paramref name="snapshotId"/> differs and <paramref name="offset"/> is 0); false when it is not the next chunk.</summary>
    bool TryStageSnapshotChunk(ulong snapshotId, long offset, ReadOnlySpan<byte> data);

    /// <summary>Drops the staged snapshot.</summary>
    void DiscardStagedSnapshot();

    /// <summary>Atomically replaces log and state with the fully staged, verified snapshot: afterwards <see cref="LastLsn"/> is <paramref name="snapshotLsn"/> and its CRC is <paramref name="anchorCrc"/>.</summary>
    void InstallStagedSnapshot(long snapshotLsn, uint anchorCrc, ulong epoch);
}
