namespace CortexEdge.Sync.Fleet;

/// <summary>One key found different by anti-entropy, with the range it was found in.</summary>
public readonly record struct KeyDifference(string Key, KeyDifferenceKind Kind, MerkleRange Range);
