namespace CortexEdge.Sync.Protocol;

/// <summary>
/// Leader -> node: a batch started past the next expected sequence (a gap); nothing past the gap
/// was applied. The node sends again from <see cref="FromSeq"/>.
/// </summary>
public sealed class ResendRequestFrame : SyncFrame
{
    /// <inheritdoc />
    public override SyncFrameType Type => SyncFrameType.ResendRequest;

    /// <summary>The origin whose stream has the gap.</summary>
    public required ulong Origin { get; init; }

    /// <summary>The next sequence the leader expects.</summary>
    public required long FromSeq { get; init; }
}
