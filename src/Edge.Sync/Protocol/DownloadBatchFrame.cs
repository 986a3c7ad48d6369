namespace CortexEdge.Sync.Protocol;

/// <summary>
/// Leader -> node: ops with leader LSNs in (<see cref="FromLsn"/>, <see cref="ToLsn"/>], in LSN
/// order. LSNs need not be dense (ops the node already holds are left out); applying the batch
/// moves the node's download cursor from <see cref="FromLsn"/> to <see cref="ToLsn"/>.
/// </summary>
public sealed class DownloadBatchFrame : SyncFrame
{
    /// <inheritdoc />
    public override SyncFrameType Type => SyncFrameType.DownloadBatch;

    /// <summary>The cursor the batch continues from (exclusive).</summary>
    public required long FromLsn { get; init; }

    /// <summary>The cursor after the batch (inclusive); every op's LSN is at most this.</summary>
    public required long ToLsn { get; init; }

    /// <summary>The leader's durable log head when the batch was sent.</summary>
    public required long HeadLsn { get; init; }

    /// <summary>The leader's clock when the batch was sent (Unix ms).</summary>
    public long LeaderUnixMilliseconds { get; init; }

    /// <summary>The ops, in increasing <see cref="SyncOp.Lsn"/>.</summary>
    public required IReadOnlyList<SyncOp> Ops { get; init; }
}
