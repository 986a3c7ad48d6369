namespace CortexEdge.Sync.Sync;

/// <summary>Unsent ops of one priority class.</summary>
/// <param name="Ops">Number of ops.</param>
/// <param name="Bytes">Payload bytes.</param>
/// <param name="OldestAge">Age of the oldest op (by its HLC against the local clock); zero when none.</param>
/// <param name="HighestSeq">Origin sequence of the newest op in the class (0 when none).</param>
public readonly record struct SyncBacklogClass(long Ops, long Bytes, TimeSpan OldestAge, long HighestSeq);

/// <summary>Unsent work of a node, split into priority collections and the rest.</summary>
/// <param name="Priority">Ops of priority collections.</param>
/// <param name="Normal">All other ops.</param>
public readonly record struct SyncBacklog(SyncBacklogClass Priority, SyncBacklogClass Normal)
{
    /// <summary>Total number of unsent ops.</summary>
    public long TotalOps => Priority.Ops + Normal.Ops;

    /// <summary>Total unsent payload bytes.</summary>
    public long TotalBytes => Priority.Bytes + Normal.Bytes;
}
