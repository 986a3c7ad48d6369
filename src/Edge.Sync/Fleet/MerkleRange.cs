namespace CortexEdge.Sync.Fleet;

/// <summary>
/// A node of the Merkle tree: all keys whose 64-bit key hash lies in [<see cref="HashFirst"/>,
/// <see cref="HashLast"/>]. Level 0 is the root (every key); each level splits a range into
/// <see cref="MerkleDigest.Fanout"/> equal parts by the next 4 bits of the key hash.
/// </summary>
public readonly record struct MerkleRange(int Level, int Index)
{
    /// <summary>First key hash in the range.</summary>
    public ulong HashFirst => Level == 0 ? 0 : (ulong)Index << (64 - (MerkleDigest.FanoutBits * Level));

    /// <summary>Last key hash in the range (inclusive).</summary>
    public ulong HashLast => Level == 0 ? ulong.MaxValue : HashFirst + ((1UL << (64 - (MerkleDigest.FanoutBits * Level))) - 1);

    /// <inheritdoc/>
    public override string ToString() => $"level {Level} #{Index} [{HashFirst:x16}..{HashLast:x16}]";
}
