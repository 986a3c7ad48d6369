namespace CortexEdge.Sync.Fleet;

/// <summary>
/// One message of the anti-entropy exchange. A <see cref="AntiEntropyMessageKind.DigestRequest"/>
/// at <see cref="Level"/> L asks for the hashes of level L: for L = 0 the root
/// (<see cref="Indices"/> = [0]), otherwise the <see cref="MerkleDigest.Fanout"/> children of each
/// level L-1 node in <see cref="Indices"/>. Every message carries the tree <see cref="Depth"/> so
/// both sides digest with the same shape.
/// </summary>
public sealed class AntiEntropyMessage
{
    private AntiEntropyMessage(AntiEntropyMessageKind kind, int depth, int level, int[] indices, ulong[] hashes, int[] bucketCounts, AntiEntropyItem[] items,
        string[]? keys = null, AntiEntropyDocument[]? documents = null)
    {
        Keys = keys ?? [];
        Documents = documents ?? [];
        Kind = kind;
        Depth = depth;
        Level = level;
        Indices = indices;
        Hashes = hashes;
        BucketCounts = bucketCounts;
        Items = items;
    }

    /// <summary>What the message is.</summary>
    public AntiEntropyMessageKind Kind { get; }

    /// <summary>The leaf level of the trees compared (1..<see cref="MerkleDigest.DepthMax"/>).</summary>
    public int Depth { get; }

    /// <summary>The level whose hashes are asked for or given (digest messages; 0 otherwise).</summary>
    public int Level { get; }

    /// <summary>Requests: parent node indices (digest) or leaf indices (bucket). Empty in replies.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>Digest reply: the hashes, children of each requested parent in order.</summary>
    public IReadOnlyList<ulong> Hashes { get; }

    /// <summary>Bucket reply: the number of items of each requested bucket, in request order.</summary>
    public IReadOnlyList<int> BucketCounts { get; }

    /// <summary>Bucket reply: the items of every requested bucket, bucket after bucket.</summary>
    public IReadOnlyList<AntiEntropyItem> Items { get; }

    /// <summary>Document request: the keys asked for.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>Document reply: the peer's state of each key asked for, in request order.</summary>
    public IReadOnlyList<AntiEntropyDocument> Documents { get; }

    /// <summary>A request for the documents under <paramref name="keys"/> (repair).</summary>
    public static AntiEntropyMessage DocumentRequest(int depth, string[] keys) =>
        new(AntiEntropyMessageKind.DocumentRequest, depth, 0, [], [], [], [], keys);

    /// <summary>A document reply.</summary>
    public static AntiEntropyMessage DocumentReply(int depth, AntiEntropyDocument[] documents) =>
        new(AntiEntropyMessageKind.DocumentReply, depth, 0, [], [], [], [], null, documents);

    /// <summary>A digest request for <paramref name="level"/>.</summary>
    public static AntiEntropyMessage DigestRequest(int depth, int level, int[] parentIndices) =>
        new(AntiEntropyMessageKind.DigestRequest, depth, level, parentIndices, [], [], []);

    /// <summary>A digest reply.</summary>
    public static AntiEntropyMessage DigestReply(int depth, int level, ulong[] hashes) =>
        new(AntiEntropyMessageKind.DigestReply, depth, level, [], hashes, [], []);

    /// <summary>A bucket request for <paramref name="leafIndices"/>.</summary>
    public static AntiEntropyMessage BucketRequest(int depth, int[] leafIndices) =>
        new(AntiEntropyMessageKind.BucketRequest, depth, 0, leafIndices, [], [], []);

    /// <summary>A bucket reply.</summary>
    public static AntiEntropyMessage BucketReply(int depth, int[] bucketCounts, AntiEntropyItem[] items) =>
        new(AntiEntropyMessageKind.BucketReply, depth, 0, [], [], bucketCounts, items);
}
