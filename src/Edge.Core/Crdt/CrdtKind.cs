namespace CortexEdge.Core.Crdt;

/// <summary>
/// Type tag in the second byte of every CRDT encoding (the first is <see cref="CrdtEncoding.FormatVersion"/>).
/// Values are persisted and sent over the wire: never renumber them.
/// </summary>
public enum CrdtKind : byte
{
    /// <summary>Grow-only counter (<see cref="GCounter"/>).</summary>
    GCounter = 1,

    /// <summary>Increment/decrement counter (<see cref="PnCounter"/>).</summary>
    PnCounter = 2,

    /// <summary>Last-writer-wins register (<see cref="LwwRegister{T}"/>).</summary>
    LwwRegister = 3,

    /// <summary>Multi-value register (<see cref="MvRegister{T}"/>).</summary>
    MvRegister = 4,

    /// <summary>Observed-remove set with compacted tombstones (<see cref="OrSet{T}"/>).</summary>
    OrSet = 5,

    /// <summary>Add-wins set over dots and a causal context (<see cref="AddWinsSet{T}"/>).</summary>
    AddWinsSet = 6,

    /// <summary>Map of last-writer-wins registers (<see cref="LwwMap{TKey, TValue}"/>).</summary>
    LwwMap = 7,
}
