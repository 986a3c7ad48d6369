namespace CortexEdge.Sync.Fleet;

/// <summary>The kind of an anti-entropy message (byte 1 of its encoding). Values are part of the wire format.</summary>
public enum AntiEntropyMessageKind : byte
{
    /// <summary>Verifier -> peer: the hashes of the children of these nodes (or the root, at level 0).</summary>
    DigestRequest = 1,

    /// <summary>Peer -> verifier: the hashes asked for, in request order.</summary>
    DigestReply = 2,

    /// <summary>Verifier -> peer: the items (key, hash) of these leaf buckets.</summary>
    BucketRequest = 3,

    /// <summary>Peer -> verifier: per bucket asked for, its item count then its items.</summary>
    BucketReply = 4,

    /// <summary>Verifier -> peer: the documents under these keys (repair).</summary>
    DocumentRequest = 5,

    /// <summary>Peer -> verifier: per key asked for, its document or its absence, in request order.</summary>
    DocumentReply = 6,
}
