namespace CortexEdge.Sync.Protocol;

/// <summary>
/// Leader -> node: every op of <see cref="Origin"/> up to <see cref="AckedSeq"/> is durable in the
/// leader's log. The node may advance its upstream cursor and free what the cursor passed.
/// </summary>
public sealed class AckFrame : SyncFrame
{
    /// <inheritdoc />
    public override SyncFrameType Type => SyncFrameType.Ack;

    /// <summary>The origin acknowledged (the node's replica id).</summary>
    public required ulong Origin { get; init; }

    /// <summary>Highest contiguous origin sequence durable at the leader.</summary>
    public required long AckedSeq { get; init; }

    /// <summary>The leader's durable log head, for the node's lag figures.</summary>
    public long HeadLsn { get; init; }

    /// <summary>The leader's clock when it sent the ack (Unix ms).</summary>
    public long LeaderUnixMilliseconds { get; init; }
}
