namespace CortexEdge.Core.Documents;

/// <summary>
/// The CRDT a document field is, as a collection declares it (<see cref="CollectionSchema"/>).
/// Values are persisted in document state: never renumber them. See docs/crdt.md for choosing one.
/// </summary>
public enum DocumentFieldType : byte
{
    /// <summary>Last-writer-wins register (the default): written by put/patch; the latest HLC wins.</summary>
    LwwRegister = 0,

    /// <summary>Multi-value register: concurrent writes are all kept as siblings until a write resolves them.</summary>
    MvRegister = 1,

    /// <summary>Grow-only counter: <see cref="EdgeDatabase.IncrementAsync"/> with positive amounts.</summary>
    GCounter = 2,

    /// <summary>Counter that goes up and down: <see cref="EdgeDatabase.IncrementAsync"/> with any amount.</summary>
    PnCounter = 3,

    /// <summary>Observed-remove set (tags with compacted tombstones); concurrent add and remove: add wins.</summary>
    OrSet = 4,

    /// <summary>Add-wins set (dots with a causal context, no tombstones); concurrent add and remove: add wins.</summary>
    AddWinsSet = 5,
}
