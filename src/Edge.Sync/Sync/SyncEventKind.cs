namespace CortexEdge.Sync.Sync;

/// <summary>What a <see cref="SyncEvent"/> reports.</summary>
public enum SyncEventKind
{
    /// <summary>The leader acknowledged own ops up to <see cref="SyncEvent.Detail"/>.</summary>
    UploadAcknowledged,

    /// <summary><see cref="SyncEvent.Detail"/> ops from the leader were applied.</summary>
    Downloaded,

    /// <summary>A snapshot was imported at leader LSN <see cref="SyncEvent.Detail"/>.</summary>
    SnapshotImported,

    /// <summary>Everything is sent and received; the session stops sending until there is new work.</summary>
    Idle,

    /// <summary>The first complete download (snapshot or deltas up to the head) finished.</summary>
    InitialDownloadComplete,

    /// <summary>An op was refused for clock skew (node: reported by the leader; leader: refused).</summary>
    ClockSkewRefused,

    /// <summary>An error was received or raised; the session retries with backoff unless it is an identity error.</summary>
    Error,

    /// <summary>Leader: an op from a node was applied.</summary>
    OpApplied,

    /// <summary>Leader: an op from a node was refused because the manifest does not let nodes write its collection (<see cref="SyncEvent.Detail"/> is its sequence).</summary>
    OpRefused,
}
