using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// What the leader's sync session needs from its database: exactly-once apply of nodes' ops
/// into its own log (the global commit order), durability positions, the log from an LSN,
/// snapshots, node identity bindings and tombstone purge. Used by one session at a time.
/// </summary>
public interface ISyncLeaderStore
{
    /// <summary>The leader database's replica id.</summary>
    ulong ReplicaId { get; }

    /// <summary>LSN of the newest op in the leader's log (0 when empty).</summary>
    long HeadLsn { get; }

    /// <summary>Highest LSN that is durable. Only ops at or below it are acknowledged or served.</summary>
    long DurableLsn { get; }

    /// <summary>Oldest LSN still in the log; a node behind <c>FirstLsn - 1</c> needs a snapshot.</summary>
    long FirstLsn { get; }

    /// <summary>Tombstones at or below this LSN have been purged; a node behind it needs a snapshot.</summary>
    long PurgedLsn { get; }

    /// <summary>Highest contiguous sequence of <paramref name="origin"/> applied (durable or not).</summary>
    long GetAppliedSeq(ulong origin);

    /// <summary>Highest contiguous sequence of <paramref name="origin"/> whose op is at or below <see cref="DurableLsn"/>.</summary>
    long GetDurableSeq(ulong origin);

    /// <summary>
    /// Applies an op (its sequence is exactly <c>GetAppliedSeq(op.Origin) + 1</c>) through the
    /// CRDT merge and appends it to the log. Copies the payload.
    /// </summary>
    /// <returns>The op's leader LSN.</returns>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.OpRejected"/>: the payload is invalid.</exception>
    long Apply(in SyncOp op);

    /// <summary>
    /// Appends ops with LSN in (<paramref name="afterLsn"/>, <paramref name="maxLsn"/>] to
    /// <paramref name="destination"/> in LSN order (each with <see cref="SyncOp.Lsn"/> set), at
    /// most <paramref name="maxCount"/> ops and, after the first, <paramref name="maxPayloadBytes"/> payload bytes.
    /// </summary>
    /// <returns>The LSN up to which the log was scanned (records that are not ops are passed over).</returns>
    long ReadLog(long afterLsn, long maxLsn, int maxCount, int maxPayloadBytes, List<SyncOp> destination);

    /// <summary>A snapshot of the state at <see cref="DurableLsn"/>.</summary>
    SyncSnapshot ExportSnapshot();

    /// <summary>Binds <paramref name="nodeName"/> to <paramref name="replicaId"/> on first sight (persisted).</summary>
    /// <returns>False when the name is bound to another replica id (given in <paramref name="boundReplicaId"/>).</returns>
    bool TryBindNode(string nodeName, ulong replicaId, out ulong boundReplicaId);

    /// <summary>The node names bound so far.</summary>
    IReadOnlyCollection<string> BoundNodes { get; }

    /// <summary>Drops tombstones at or below <paramref name="upToLsn"/> and raises <see cref="PurgedLsn"/>.</summary>
    void PurgeTombstones(long upToLsn);
}
