using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>A snapshot of a database's counters (<see cref="EdgeDatabase.GetStats"/>).</summary>
public sealed record EdgeDatabaseStats
{
    /// <summary>This database's replica id (origin of its ops).</summary>
    public required ulong ReplicaId { get; init; }

    /// <summary>The durability mode writes are acknowledged in.</summary>
    public required WalDurability Durability { get; init; }

    /// <summary>Oldest LSN still in the WAL.</summary>
    public required long FirstLsn { get; init; }

    /// <summary>Last appended LSN.</summary>
    public required long LastLsn { get; init; }

    /// <summary>Highest LSN made durable by a flush.</summary>
    public required long DurableLsn { get; init; }

    /// <summary>Highest LSN durable in the SQLite projection.</summary>
    public required long CheckpointLsn { get; init; }

    /// <summary>WAL flushes completed since open: fewer than acknowledged writes when group commit coalesces them.</summary>
    public long WalFlushCount { get; init; }

    /// <summary>Checkpoint transactions committed since open.</summary>
    public required long CheckpointCount { get; init; }

    /// <summary>WAL segment files on disk.</summary>
    public required int WalSegmentCount { get; init; }

    /// <summary>Bytes the WAL takes on disk.</summary>
    public required long WalUsedBytes { get; init; }

    /// <summary>The WAL's quota in bytes.</summary>
    public required long WalQuotaBytes { get; init; }

    /// <summary>Highest origin sequence issued by this replica.</summary>
    public required ulong OriginSequence { get; init; }

    /// <summary>Documents changed since the last checkpoint (held in memory).</summary>
    public required int OverlayDocumentCount { get; init; }

    /// <summary>Remote ops rejected because their clock was too far ahead.</summary>
    public required long ClockSkewRejectionCount { get; init; }

    /// <summary>Records the WAL recovery scanned on open and the bytes of torn tail it cut.</summary>
    public required WalRecoveryResult Recovery { get; init; }

    /// <summary>Records replayed into memory on open (after the checkpoint).</summary>
    public required long ReplayedRecordCount { get; init; }

    /// <summary>
    /// Conflicts this replica resolved per collection over its life (LWW writes discarded, multi-value
    /// siblings created, out of remote ops applied): the conflict rate. Collections without remote ops are absent.
    /// </summary>
    public IReadOnlyDictionary<string, Documents.CollectionConflictStats> Conflicts { get; init; } = new Dictionary<string, Documents.CollectionConflictStats>();

    /// <summary>
    /// Own ops dropped from the upload queue at the WAL quota, per droppable collection, over the
    /// database's life (<see cref="EdgeDatabaseOptions.DroppableCollections"/>). Still applied locally; never uploaded.
    /// </summary>
    public IReadOnlyDictionary<string, long> DroppedOps { get; init; } = new Dictionary<string, long>();

    /// <summary>
    /// Highest own origin sequence dropped from the upload queue (0: none). Every own op after the
    /// last one the leader acknowledged, up to this sequence, was dropped: sync skips them.
    /// </summary>
    public ulong DroppedOwnSequenceThrough { get; init; }

    /// <summary>Why the database refuses writes, or null when it takes them.</summary>
    public required string? Fault { get; init; }
}
