namespace CortexEdge.Sync.Sync;

/// <summary>Counters of a node session since it was created. Read on the session's thread.</summary>
public sealed class NodeSyncCounters
{
    /// <summary>Upload batches sent (including resends).</summary>
    public long UploadFramesSent { get; internal set; }

    /// <summary>Ops sent in upload batches (including resends).</summary>
    public long UploadOpsSent { get; internal set; }

    /// <summary>Times the upload window was re-sent from the last acknowledgement (timeout or resend request).</summary>
    public long UploadRetries { get; internal set; }

    /// <summary>Pulls sent.</summary>
    public long PullsSent { get; internal set; }

    /// <summary>Pulls that timed out and were retried.</summary>
    public long PullRetries { get; internal set; }

    /// <summary>Remote ops applied.</summary>
    public long OpsDownloaded { get; internal set; }

    /// <summary>Download batches or chunks dropped because they did not continue the cursor (duplicate, stale, reordered).</summary>
    public long FramesOutOfOrder { get; internal set; }

    /// <summary>Snapshot chunks stored.</summary>
    public long SnapshotChunksReceived { get; internal set; }

    /// <summary>Snapshots imported.</summary>
    public long SnapshotsImported { get; internal set; }

    /// <summary>Frames that failed to decode or named another fleet or node.</summary>
    public long FramesRejected { get; internal set; }

    /// <summary>Ops the leader refused for clock skew.</summary>
    public long ClockSkewRefusals { get; internal set; }

    /// <summary>Error frames received.</summary>
    public long ErrorsReceived { get; internal set; }
}
