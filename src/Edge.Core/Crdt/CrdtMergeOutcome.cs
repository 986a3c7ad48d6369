namespace CortexEdge.Core.Crdt;

/// <summary>
/// What a merge did, for materialization (<see cref="Changed"/>) and conflict accounting
/// (<see cref="DiscardedWrites"/>, <see cref="SiblingsCreated"/>). Accounting is local metadata,
/// not part of the replicated state: every replica counts the conflicts it resolves itself.
/// </summary>
/// <param name="Changed">True when the local state changed.</param>
/// <param name="DiscardedWrites">Concurrent last-writer-wins writes whose value was discarded: the
/// losing write was not observed by the winning one.</param>
/// <param name="SiblingsCreated">Multi-value register siblings that the merge added (values that now
/// coexist because their writes were concurrent).</param>
public readonly record struct CrdtMergeOutcome(bool Changed, int DiscardedWrites, int SiblingsCreated)
{
    /// <summary>Nothing changed and nothing conflicted.</summary>
    public static CrdtMergeOutcome Unchanged => default;

    /// <summary>Adds two outcomes (used by composite types such as <see cref="LwwMap{TKey, TValue}"/>).</summary>
    public static CrdtMergeOutcome operator +(CrdtMergeOutcome left, CrdtMergeOutcome right) =>
        new(left.Changed || right.Changed, left.DiscardedWrites + right.DiscardedWrites, left.SiblingsCreated + right.SiblingsCreated);
}
