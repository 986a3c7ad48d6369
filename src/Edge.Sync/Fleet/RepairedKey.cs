namespace CortexEdge.Sync.Fleet;

/// <summary>One key anti-entropy repair handled, and how.</summary>
/// <param name="Key">The document key.</param>
/// <param name="Difference">How it differed.</param>
/// <param name="Action">What repair did.</param>
public readonly record struct RepairedKey(string Key, KeyDifferenceKind Difference, RepairAction Action);
