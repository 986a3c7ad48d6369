namespace CortexEdge.Sync.Sync;

/// <summary>
/// A node's sync status for the agent and operators: backlog, last successful sync each way,
/// lag behind the leader, and the last error.
/// </summary>
public sealed record SyncStatus
{
    /// <summary>Unsent own ops by priority.</summary>
    public required SyncBacklog Backlog { get; init; }

    /// <summary>Last time the leader acknowledged an upload; null before the first.</summary>
    public DateTimeOffset? LastUploadAt { get; init; }

    /// <summary>Last time a download (batch, snapshot or "up to date") succeeded; null before the first.</summary>
    public DateTimeOffset? LastDownloadAt { get; init; }

    /// <summary>The last leader LSN applied.</summary>
    public required long DownloadCursor { get; init; }

    /// <summary>The highest own sequence acknowledged by the leader.</summary>
    public required long UploadCursor { get; init; }

    /// <summary>Leader ops not yet applied here, as far as the node knows (leader head minus cursor).</summary>
    public required long LagOps { get; init; }

    /// <summary>How far behind the leader's clock the node's view is (zero when up to date).</summary>
    public required TimeSpan Lag { get; init; }

    /// <summary>Everything is sent and received.</summary>
    public required bool IsIdle { get; init; }

    /// <summary>The last pull reached the leader's head.</summary>
    public required bool IsDownloadUpToDate { get; init; }

    /// <summary>The first full download (snapshot or deltas to the head) completed at some point.</summary>
    public required bool InitialDownloadComplete { get; init; }

    /// <summary>A snapshot transfer is under way.</summary>
    public required bool SnapshotInProgress { get; init; }

    /// <summary>Ops the leader refused for clock skew (this session).</summary>
    public required long ClockSkewRefusals { get; init; }

    /// <summary>The session stopped for an error no retry can fix (identity mismatch).</summary>
    public required bool IsHalted { get; init; }

    /// <summary>The last error, or null.</summary>
    public SyncError? LastError { get; init; }
}
