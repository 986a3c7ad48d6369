namespace CortexEdge.Sync.Protocol;

/// <summary>
/// Error codes of the sync protocol. The values travel in <see cref="ErrorFrame"/>s and appear in
/// logs and the status API, so they are stable: a code is never renumbered or reused.
/// Ranges: 1-99 frame format, 100-199 identity and fleet, 200-299 op checks, 300-399 snapshots,
/// 400-499 session and store.
/// </summary>
public enum SyncProtocolErrorCode : ushort
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>A field of a frame is out of range or the frame ends early.</summary>
    Malformed = 1,

    /// <summary>The frame does not start with the sync magic: it is not a CortexEdge sync frame.</summary>
    BadMagic = 2,

    /// <summary>The frame was written by a newer protocol version than this binary understands.</summary>
    UnsupportedVersion = 3,

    /// <summary>The frame type byte names no known frame type.</summary>
    UnknownFrameType = 4,

    /// <summary>The frame's CRC32C does not match its bytes.</summary>
    ChecksumMismatch = 5,

    /// <summary>The frame, or its decompressed body, is larger than the configured limit.</summary>
    FrameTooLarge = 6,

    /// <summary>An op's payload is larger than the per-op limit.</summary>
    OpTooLarge = 7,

    /// <summary>A batch holds more ops than the per-batch limit.</summary>
    TooManyOps = 8,

    /// <summary>A compressed body could not be decompressed to its declared length.</summary>
    DecompressionFailed = 9,

    /// <summary>A fleet or node name is empty, too long or not valid UTF-8.</summary>
    InvalidName = 10,

    /// <summary>The frame names another fleet than the one this session serves.</summary>
    WrongFleet = 100,

    /// <summary>The node name is bound to another replica id (or the database to another name).</summary>
    NodeIdentityMismatch = 101,

    /// <summary>An upload batch carries ops of an origin other than the sending replica.</summary>
    OriginMismatch = 102,

    /// <summary>An op's HLC is further ahead of the leader's clock than the allowed skew.</summary>
    ClockSkew = 200,

    /// <summary>An op was refused by the store (invalid payload for its collection).</summary>
    OpRejected = 201,

    /// <summary>An op writes a collection the replication manifest does not let nodes write (direction down or local-only); nothing of it was applied.</summary>
    CollectionNotWritable = 202,

    /// <summary>A reassembled snapshot does not match its declared length or checksum.</summary>
    SnapshotChecksumMismatch = 300,

    /// <summary>The frame is valid but not expected in this role or state.</summary>
    UnexpectedFrame = 400,

    /// <summary>A sync round did not complete before its deadline; the session keeps retrying.</summary>
    Timeout = 401,

    /// <summary>The storage engine failed while applying or reading sync data.</summary>
    StoreFailure = 402,

    /// <summary>The node holds its upload back: the manifest asks for a schema version of a collection this build does not understand.</summary>
    HeldBack = 403,
}
