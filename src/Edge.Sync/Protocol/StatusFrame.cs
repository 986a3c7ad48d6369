namespace CortexEdge.Sync.Protocol;

/// <summary>Leader -> node: up to date, or new data is waiting.</summary>
public sealed class StatusFrame : SyncFrame
{
    /// <inheritdoc />
    public override SyncFrameType Type => SyncFrameType.Status;

    /// <summary>What is announced.</summary>
    public required SyncStatusKind Kind { get; init; }

    /// <summary>The leader's durable log head.</summary>
    public required long HeadLsn { get; init; }

    /// <summary>The leader's clock (Unix ms).</summary>
    public long LeaderUnixMilliseconds { get; init; }
}
