namespace CortexEdge.Sync.Replication;

/// <summary>What a replica is doing.</summary>
public enum ReplicaState
{
    /// <summary>Has not heard from a leader yet.</summary>
    Connecting,

    /// <summary>Behind the leader's end and applying batches to catch up.</summary>
    CatchingUp,

    /// <summary>At (or within one batch of) the leader's end.</summary>
    Streaming,

    /// <summary>Receiving a snapshot (the leader no longer has the log from the replica's position).</summary>
    Snapshot,

    /// <summary>Stopped on a divergence; applies nothing until an operator resyncs it.</summary>
    Halted,
}

/// <summary>A replica's progress, as <see cref="ReplicaProtocol.GetStatus"/> reports it.</summary>
/// <param name="State">What it is doing.</param>
/// <param name="HaltReason">Why it halted (null unless <see cref="ReplicaState.Halted"/>).</param>
/// <param name="Epoch">The newest epoch it follows.</param>
/// <param name="AppliedLsn">Last LSN appended and applied.</param>
/// <param name="LeaderLsn">The leader's last shippable LSN as last heard.</param>
/// <param name="LagRecords">LeaderLsn - AppliedLsn (0 when ahead).</param>
/// <param name="LagSeconds">How long the replica has been behind the leader's announced end (0 when caught up).</param>
/// <param name="SnapshotBytes">Snapshot bytes staged (in <see cref="ReplicaState.Snapshot"/>).</param>
/// <param name="SnapshotTotalBytes">Snapshot size.</param>
/// <param name="RefusedEpochFrameCount">Frames refused because they came from an older epoch.</param>
/// <param name="DuplicateRecordCount">Re-delivered records recognised by LSN and ignored.</param>
/// <param name="GapFrameCount">Batches that started past the replica's end (re-requested, not applied).</param>
public readonly record struct ReplicaStatus(
    ReplicaState State,
    string? HaltReason,
    ulong Epoch,
    long AppliedLsn,
    long LeaderLsn,
    long LagRecords,
    double LagSeconds,
    long SnapshotBytes,
    long SnapshotTotalBytes,
    long RefusedEpochFrameCount,
    long DuplicateRecordCount,
    long GapFrameCount);

/// <summary>What the leader knows about one replica (see <see cref="ReplicationLeaderProtocol.GetReplicas"/>).</summary>
/// <param name="Name">Replica name.</param>
/// <param name="AcknowledgedLsn">Last LSN the replica reported holding.</param>
/// <param name="DurableLsn">Last LSN the replica reported durable.</param>
/// <param name="LagRecords">Leader's shippable LSN minus <see cref="AcknowledgedLsn"/>.</param>
/// <param name="Mode">"streaming", "snapshot", "halted", or "ahead" (the replica holds LSNs the leader does not).</param>
/// <param name="HoldsRetention">true when this replica's position keeps leader WAL segments from being deleted.</param>
/// <param name="LastHeardMs">When its last status arrived (caller's clock).</param>
public readonly record struct ReplicaProgress(string Name, long AcknowledgedLsn, long DurableLsn, long LagRecords, string Mode, bool HoldsRetention, long LastHeardMs);

/// <summary>A frame the leader protocol wants sent to one replica.</summary>
/// <param name="ReplicaName">Addressee.</param>
/// <param name="Frame">The encoded frame.</param>
public readonly record struct OutgoingFrame(string ReplicaName, byte[] Frame);
