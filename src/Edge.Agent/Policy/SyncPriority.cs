namespace CortexEdge.Agent.Policy;

/// <summary>How urgently a collection's changes must reach the leader.</summary>
public enum SyncPriority
{
    /// <summary>Priority collections (alarms, commands, state the fleet acts on): sent even on a costly link or a low battery.</summary>
    High = 0,

    /// <summary>Ordinary data (most sensor readings).</summary>
    Normal = 1,

    /// <summary>Bulk data that can wait the longest (logs, raw dumps).</summary>
    Low = 2,
}
