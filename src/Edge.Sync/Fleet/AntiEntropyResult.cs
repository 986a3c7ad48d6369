namespace CortexEdge.Sync.Fleet;

/// <summary>What an anti-entropy comparison found: the differing leaf ranges and, within them, each differing key.</summary>
public sealed class AntiEntropyResult
{
    internal AntiEntropyResult(IReadOnlyList<MerkleRange> differingRanges, IReadOnlyList<KeyDifference> differingKeys, int roundTrips)
    {
        DifferingRanges = differingRanges;
        DifferingKeys = differingKeys;
        RoundTrips = roundTrips;
    }

    /// <summary>true when both replicas hold the same items.</summary>
    public bool InAgreement => DifferingKeys.Count == 0 && DifferingRanges.Count == 0;

    /// <summary>Leaf ranges whose hashes differed, ascending.</summary>
    public IReadOnlyList<MerkleRange> DifferingRanges { get; }

    /// <summary>Every differing key, ordered by range then key (ordinal).</summary>
    public IReadOnlyList<KeyDifference> DifferingKeys { get; }

    /// <summary>Request/reply pairs the comparison took.</summary>
    public int RoundTrips { get; }
}
