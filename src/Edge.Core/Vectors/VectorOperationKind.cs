namespace CortexEdge.Core.Vectors;

/// <summary>What a <see cref="Wal.WalRecordKind.Vector"/> record does. Values are persisted; never reuse one.</summary>
internal enum VectorOperationKind : byte
{
    /// <summary>Creates a collection with a dimension and metric (a no-op when it exists with the same shape).</summary>
    CreateCollection = 1,

    /// <summary>Inserts or replaces one vector (last writer wins by HLC).</summary>
    Upsert = 2,

    /// <summary>Deletes one vector, leaving a tombstone so older upserts arriving later stay hidden.</summary>
    Delete = 3,
}
