namespace CortexEdge.Sync.Sync;

/// <summary>Counters of a leader session since it was created. Read on the session's thread.</summary>
public sealed class LeaderSyncCounters
{
    /// <summary>Frames received (decoded or not).</summary>
    public long FramesReceived { get; internal set; }

    /// <summary>Frames that failed to decode; each got an error reply.</summary>
    public long MalformedFrames { get; internal set; }

    /// <summary>Frames refused for another fleet, an identity mismatch, or a frame type a leader does not take.</summary>
    public long FramesRefused { get; internal set; }

    /// <summary>Ops applied from nodes.</summary>
    public long OpsApplied { get; internal set; }

    /// <summary>Ops received again after they were applied (acknowledged, not re-applied).</summary>
    public long DuplicateOps { get; internal set; }

    /// <summary>Batches that started past the next expected sequence (not applied; resend requested).</summary>
    public long Gaps { get; internal set; }

    /// <summary>Ops refused because their HLC was too far ahead.</summary>
    public long ClockSkewRefusals { get; internal set; }

    /// <summary>Ops refused because the manifest does not let nodes write their collection (nothing of them applied).</summary>
    public long OpsRefused { get; internal set; }

    /// <summary>Ops the store rejected.</summary>
    public long OpsRejected { get; internal set; }

    /// <summary>Acknowledgements sent.</summary>
    public long AcksSent { get; internal set; }

    /// <summary>Ops sent in download batches.</summary>
    public long DownloadOpsSent { get; internal set; }

    /// <summary>Snapshots exported.</summary>
    public long SnapshotsExported { get; internal set; }

    /// <summary>Snapshot chunks sent.</summary>
    public long SnapshotChunksSent { get; internal set; }

    /// <summary>Error frames sent.</summary>
    public long ErrorsSent { get; internal set; }

    /// <summary>Tombstone purges performed.</summary>
    public long Purges { get; internal set; }
}
