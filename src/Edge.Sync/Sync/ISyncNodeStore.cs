using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// What an edge node's sync session needs from its database: its own ops from the upstream
/// cursor, idempotent apply of the leader's ops together with the download cursor, the version
/// vector, and resumable snapshot import. Every write is durable according to the database's
/// durability mode; a crash loses at most what that mode allows, and never part of one call.
/// Implementations are used by one session at a time; they need not be thread-safe.
/// </summary>
public interface ISyncNodeStore
{
    /// <summary>The database's replica id: the origin of its own ops.</summary>
    ulong ReplicaId { get; }

    /// <summary>The node name bound at the first sync, or null before it.</summary>
    string? BoundNodeName { get; }

    /// <summary>Binds the node name (persisted). Binding the same name again is a no-op.</summary>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.NodeIdentityMismatch"/>: bound to another name.</exception>
    void BindNodeName(string nodeName);

    /// <summary>Origin sequence of the newest own op (0 when none).</summary>
    long LastOwnSeq { get; }

    /// <summary>Highest own sequence that is durable locally. Uploads never go past it, so an op the leader acknowledged can never be lost by a local crash and its sequence never reused.</summary>
    long DurableOwnSeq { get; }

    /// <summary>
    /// Appends own ops with sequences in (<paramref name="afterSeq"/>, <paramref name="maxSeq"/>] to
    /// <paramref name="destination"/> in sequence order, at most <paramref name="maxCount"/> ops and,
    /// after the first, at most <paramref name="maxPayloadBytes"/> payload bytes.
    /// </summary>
    /// <returns>The number of ops appended.</returns>
    int ReadOwnOps(long afterSeq, long maxSeq, int maxCount, int maxPayloadBytes, List<SyncOp> destination);

    /// <summary>Unsent work: own ops after <paramref name="afterSeq"/>, split by priority.</summary>
    SyncBacklog GetBacklog(long afterSeq, DateTimeOffset now);

    /// <summary>The highest own sequence the leader acknowledged as durable (persisted).</summary>
    long UploadCursor { get; }

    /// <summary>Persists a new upload cursor (monotonic); ops at or below it may be freed.</summary>
    void SaveUploadCursor(long ackedSeq);

    /// <summary>The last leader LSN applied (persisted atomically with the ops, 0 when none).</summary>
    long DownloadCursor { get; }

    /// <summary>Copies the version vector (origin -> highest contiguous sequence held) into <paramref name="destination"/>.</summary>
    void GetVersionVector(List<KeyValuePair<ulong, long>> destination);

    /// <summary>
    /// Applies the leader's ops and moves the download cursor to <paramref name="newCursor"/>, all
    /// or nothing. An op already held (by (origin, sequence)) is skipped; a gap is never applied.
    /// </summary>
    /// <returns>The number of ops applied (not skipped).</returns>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.StoreFailure"/>: an op leaves a gap in its origin's sequence.</exception>
    int ApplyDownloaded(IReadOnlyList<SyncOp> ops, long newCursor);

    /// <summary>The snapshot transfer under way (persisted, so it resumes after a restart), or null.</summary>
    SnapshotTransfer? PendingSnapshot { get; }

    /// <summary>Starts receiving a snapshot, discarding any other pending transfer.</summary>
    void BeginSnapshot(SnapshotTransfer transfer);

    /// <summary>Persists chunk <paramref name="index"/> (the transfer's next chunk) of the pending snapshot.</summary>
    void AppendSnapshotChunk(int index, ReadOnlySpan<byte> data);

    /// <summary>The concatenated chunks of the pending snapshot.</summary>
    byte[] ReadPendingSnapshot();

    /// <summary>Drops the pending snapshot transfer.</summary>
    void DiscardSnapshot();

    /// <summary>
    /// Replaces the replicated state with the snapshot (taken at leader LSN
    /// <paramref name="snapshotLsn"/>), re-applies the node's own ops the snapshot does not hold,
    /// sets the download cursor to <paramref name="snapshotLsn"/> and clears the pending transfer,
    /// all or nothing. Replacing (not merging) is what stops a node re-bootstrapped past the
    /// tombstone horizon from resurrecting deleted documents.
    /// </summary>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.StoreFailure"/>: the snapshot cannot be decoded.</exception>
    void ImportSnapshot(ReadOnlyMemory<byte> snapshot, long snapshotLsn);
}
