namespace CortexEdge.Core.Documents;

/// <summary>
/// Conflicts this replica resolved in one collection over the database's life: counted once per op
/// from another replica when it is applied, persisted with the checkpoint that covers the op (so
/// recovery replay never counts an op twice); see docs/crdt.md.
/// </summary>
/// <param name="DiscardedWrites">Last-writer-wins field writes that arrived older than the value (or
/// the put/delete) already here and were dropped: concurrent writes whose value LWW discarded.</param>
/// <param name="SiblingsCreated">Multi-value register siblings created by concurrent writes.</param>
/// <param name="RemoteOperations">Ops from other replicas applied to the collection (the denominator of a conflict rate).</param>
public readonly record struct CollectionConflictStats(long DiscardedWrites, long SiblingsCreated, long RemoteOperations);
