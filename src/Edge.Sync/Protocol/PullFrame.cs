namespace CortexEdge.Sync.Protocol;

/// <summary>
/// Node -> leader: "send me leader LSN &gt; <see cref="AfterLsn"/>". When a snapshot transfer is
/// under way, <see cref="SnapshotId"/> and <see cref="SnapshotNextChunk"/> resume it from the
/// first chunk not yet received. <see cref="VersionVector"/> lets the leader skip ops the node
/// already holds (its own, at least).
/// </summary>
public sealed class PullFrame : SyncFrame
{
    /// <inheritdoc />
    public override SyncFrameType Type => SyncFrameType.Pull;

    /// <summary>The last leader LSN the node has applied (0: nothing yet).</summary>
    public required long AfterLsn { get; init; }

    /// <summary>
    /// True when every op the node wrote before this pull is acknowledged by the leader: the
    /// leader may then count <see cref="AfterLsn"/> toward its tombstone purge horizon.
    /// </summary>
    public bool UploadDrained { get; init; }

    /// <summary>The snapshot being resumed, or 0 for none.</summary>
    public ulong SnapshotId { get; init; }

    /// <summary>The first chunk index the node still needs of <see cref="SnapshotId"/>.</summary>
    public int SnapshotNextChunk { get; init; }

    /// <summary>The node's version vector (origin -> highest contiguous sequence held); may be empty.</summary>
    public IReadOnlyList<KeyValuePair<ulong, long>> VersionVector { get; init; } = [];
}
