namespace CortexEdge.Sync.Fleet;

/// <summary>
/// A Merkle digest of one replica's collection: a complete tree of fanout 16 over key-hash
/// buckets. A leaf (level <see cref="Depth"/>) holds the keys whose key hash starts with its
/// index's bits; a node's hash is the wrapping sum of the item hashes below it, so it depends on
/// the set of items, never on the order they were read in, and two replicas agree on a range
/// exactly when (up to a 2^-64 collision) they hold the same items in it.
/// </summary>
/// <remarks>Immutable once built; safe to read from many threads.</remarks>
public sealed class MerkleDigest
{
    /// <summary>Children per node.</summary>
    public const int Fanout = 16;

    /// <summary>Key-hash bits consumed per level (log2 of <see cref="Fanout"/>).</summary>
    public const int FanoutBits = 4;

    /// <summary>Deepest tree allowed: 16^5 = 1,048,576 leaves (8 MiB of leaf hashes).</summary>
    public const int DepthMax = 5;

    private readonly ulong[][] _levels;
    private readonly AntiEntropyItem[] _items;
    private readonly int[] _bucketStarts;

    private MerkleDigest(int depth, ulong[][] levels, AntiEntropyItem[] items, int[] bucketStarts)
    {
        Depth = depth;
        _levels = levels;
        _items = items;
        _bucketStarts = bucketStarts;
    }

    /// <summary>The leaf level (1..<see cref="DepthMax"/>); the tree has 16^Depth leaves.</summary>
    public int Depth { get; }

    /// <summary>Number of leaf buckets.</summary>
    public int LeafCount => _levels[Depth].Length;

    /// <summary>Number of items (keys) digested.</summary>
    public int ItemCount => _items.Length;

    /// <summary>The root hash: equal on two replicas holding the same items.</summary>
    public ulong RootHash => _levels[0][0];

    /// <summary>The depth that gives about two items per leaf for <paramref name="itemCount"/> items, within 1..<see cref="DepthMax"/>.</summary>
    public static int DepthFor(long itemCount)
    {
        int depth = 1;
        while (depth < DepthMax && (1L << (FanoutBits * depth)) * 2 < itemCount)
        {
            depth++;
        }

        return depth;
    }

    /// <summary>Reads every item of <paramref name="source"/> and builds the digest with <paramref name="depth"/> levels below the root.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="depth"/> is outside 1..<see cref="DepthMax"/>.</exception>
    /// <exception cref="FleetException">AntiEntropyMalformed: the source yields a key twice.</exception>
    public static MerkleDigest Build(IAntiEntropySource source, int depth)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(depth, DepthMax);
        var buffered = new List<(ulong KeyHash, AntiEntropyItem Item)>();
        foreach (AntiEntropyItem item in source.ReadItems())
        {
            buffered.Add((FleetHash.Hash(item.Key), item));
        }

        return Build(buffered, depth);
    }

    /// <summary>Like <see cref="Build(IAntiEntropySource, int)"/>, choosing the depth with <see cref="DepthFor"/> after reading.</summary>
    public static MerkleDigest Build(IAntiEntropySource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var items = source.ReadItems().ToList();
        return Build(new ListSource(items), DepthFor(items.Count));
    }

    /// <summary>The hash of node <paramref name="index"/> at <paramref name="level"/> (0 = root).</summary>
    public ulong GetHash(int level, int index) => _levels[level][index];

    /// <summary>The hashes of every node at <paramref name="level"/>, by index.</summary>
    public ReadOnlySpan<ulong> GetLevel(int level) => _levels[level];

    /// <summary>The items of leaf bucket <paramref name="leafIndex"/>, in no particular order.</summary>
    public ReadOnlySpan<AntiEntropyItem> GetBucket(int leafIndex) =>
        _items.AsSpan(_bucketStarts[leafIndex], _bucketStarts[leafIndex + 1] - _bucketStarts[leafIndex]);

    private static MerkleDigest Build(List<(ulong KeyHash, AntiEntropyItem Item)> buffered, int depth)
    {
        int leafCount = 1 << (FanoutBits * depth);
        int shift = 64 - (FanoutBits * depth);
        var levels = new ulong[depth + 1][];
        ulong[] leaves = levels[depth] = new ulong[leafCount];
        var counts = new int[leafCount + 1];
        foreach ((ulong keyHash, AntiEntropyItem item) in buffered)
        {
            int bucket = (int)(keyHash >> shift);
            leaves[bucket] += item.Hash;
            counts[bucket + 1]++;
        }

        for (int index = 0; index < leafCount; index++)
        {
            counts[index + 1] += counts[index];
        }

        var items = new AntiEntropyItem[buffered.Count];
        var keyHashes = new ulong[buffered.Count];
        int[] next = (int[])counts.Clone();
        foreach ((ulong keyHash, AntiEntropyItem item) in buffered)
        {
            int position = next[(int)(keyHash >> shift)]++;
            items[position] = item;
            keyHashes[position] = keyHash;
        }

        for (int level = depth - 1; level >= 0; level--)
        {
            ulong[] below = levels[level + 1];
            ulong[] current = levels[level] = new ulong[below.Length / Fanout];
            for (int index = 0; index < current.Length; index++)
            {
                ulong sum = 0;
                foreach (ulong child in below.AsSpan(index * Fanout, Fanout))
                {
                    sum += child;
                }

                current[index] = sum;
            }
        }

        CheckUniqueKeys(items, keyHashes, counts);
        return new MerkleDigest(depth, levels, items, counts);
    }

    private static void CheckUniqueKeys(AntiEntropyItem[] items, ulong[] keyHashes, int[] bucketStarts)
    {
        // Equal keys have equal key hashes and so share a bucket (about two items each): compare
        // within buckets, strings only where the hashes collide.
        for (int leaf = 0; leaf + 1 < bucketStarts.Length; leaf++)
        {
            for (int first = bucketStarts[leaf]; first < bucketStarts[leaf + 1]; first++)
            {
                for (int second = first + 1; second < bucketStarts[leaf + 1]; second++)
                {
                    if (keyHashes[first] == keyHashes[second] && string.Equals(items[first].Key, items[second].Key, StringComparison.Ordinal))
                    {
                        throw new FleetException(FleetErrorCode.AntiEntropyMalformed, $"The anti-entropy source yielded key '{items[first].Key}' twice.");
                    }
                }
            }
        }
    }

    private sealed class ListSource(List<AntiEntropyItem> items) : IAntiEntropySource
    {
        public IEnumerable<AntiEntropyItem> ReadItems() => items;
    }
}
