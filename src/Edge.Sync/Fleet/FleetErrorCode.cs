namespace CortexEdge.Sync.Fleet;

/// <summary>
/// Stable codes of fleet errors (manifest, authorization, anti-entropy, presence), in ranges of
/// 100 per concept. Values appear in logs and error replies; never renumber them.
/// </summary>
public enum FleetErrorCode
{
    /// <summary>No specific code.</summary>
    Unknown = 0,

    // 100-199: anti-entropy messages and sessions
    /// <summary>An anti-entropy message does not decode (truncated, bad kind, trailing bytes).</summary>
    AntiEntropyMalformed = 100,

    /// <summary>An anti-entropy message is of a newer format version than this build understands.</summary>
    AntiEntropyVersionUnsupported = 101,

    /// <summary>An anti-entropy message exceeds a limit (index count, item count, key length, depth).</summary>
    AntiEntropyLimitExceeded = 102,

    /// <summary>The peer answered something the session did not ask for (wrong kind, level, count or index).</summary>
    AntiEntropyUnexpectedReply = 103,

    // 200-299: replication manifest
    /// <summary>A manifest does not decode.</summary>
    ManifestMalformed = 200,

    /// <summary>A manifest is of a newer format version than this build understands.</summary>
    ManifestVersionUnsupported = 201,

    /// <summary>A manifest is well-formed but invalid (duplicate collection, bad name, limit exceeded).</summary>
    ManifestInvalid = 202,

    /// <summary>A document handed to the filter is not a JSON object.</summary>
    ManifestDocumentInvalid = 203,

    /// <summary>The node's schema version of a collection is older than the manifest's: its data is held back.</summary>
    SchemaHeldBack = 204,

    // 300-399: presence
    /// <summary>A presence payload does not decode.</summary>
    PresenceMalformed = 300,

    // 400-499: authorization of node frames at the leader
    /// <summary>A frame arrived on a topic that is not ce/{fleet}/{kind}/{node} of this fleet.</summary>
    NodeTopicInvalid = 400,

    /// <summary>The node id inside a frame differs from the node its topic names (a spoofed frame).</summary>
    NodeIdSpoofed = 401,

    /// <summary>The broker identity behind the frame (username, certificate CN) differs from the node its topic names.</summary>
    NodeIdentityMismatch = 402,

    /// <summary>The manifest does not let nodes write the collection (down-only or local-only).</summary>
    CollectionNotWritable = 403,
}
