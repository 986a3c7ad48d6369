namespace CortexEdge.Sync.Fleet;

/// <summary>How one key differs between the local replica and its peer.</summary>
public enum KeyDifferenceKind
{
    /// <summary>Both hold the key with different content or version.</summary>
    Different = 0,

    /// <summary>Only the local replica holds the key.</summary>
    MissingAtPeer = 1,

    /// <summary>Only the peer holds the key.</summary>
    MissingLocally = 2,
}
