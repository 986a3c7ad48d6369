namespace CortexEdge.Sync.Protocol;

/// <summary>What a <see cref="StatusFrame"/> announces.</summary>
public enum SyncStatusKind : byte
{
    /// <summary>The node has everything up to the leader's durable head.</summary>
    UpToDate = 1,

    /// <summary>The leader's head moved past what the node last pulled: pull again.</summary>
    NewData = 2,
}
