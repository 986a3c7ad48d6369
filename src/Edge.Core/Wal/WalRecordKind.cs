namespace CortexEdge.Core.Wal;

/// <summary>
/// What a WAL record's payload holds. Ranges are reserved per concept so each can add kinds
/// without renumbering; a value is never reused once released, since old logs still carry it.
/// </summary>
public enum WalRecordKind : byte
{
    /// <summary>Not a record; a zeroed (preallocated, never written) slot reads as this.</summary>
    None = 0,

    // 1-15: engine (checkpoints, markers)
    /// <summary>A checkpoint marker: state up to the LSN in the payload is in SQLite.</summary>
    Checkpoint = 1,

    // 16-31: documents (Edge.Core State/ and Crdt/)
    /// <summary>A document operation (put, patch, delete, CRDT field op).</summary>
    Document = 16,

    // 32-47: time series
    /// <summary>A batch of time-series readings.</summary>
    TimeSeriesBatch = 32,

    // 48-63: vectors
    /// <summary>A vector upsert or delete.</summary>
    Vector = 48,

    // 64-95: sync (ops applied from other replicas, cursors)
    /// <summary>An op that originated on another replica, applied through sync.</summary>
    RemoteOp = 64,

    /// <summary>
    /// The place of an op that stayed on its origin (a collection the replication manifest keeps
    /// local): it holds the op's origin sequence so every replica's sequence stays dense, carries
    /// no body and changes no state. Written only through sync.
    /// </summary>
    WithheldOp = 65,
}
