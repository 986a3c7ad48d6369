namespace CortexEdge.Core.Wal;

/// <summary>When an appended WAL record counts as acknowledged.</summary>
public enum WalDurabilityMode
{
    /// <summary>At once, after the copy into the mapped segment: survives a process crash, not a power loss.</summary>
    None,

    /// <summary>At once; a background flush runs every interval, bounding what a power loss can take.</summary>
    Periodic,

    /// <summary>After the group flush that covers the record (group commit); the interval bounds the wait.</summary>
    Group,

    /// <summary>After a flush issued for the record itself.</summary>
    Always,
}
