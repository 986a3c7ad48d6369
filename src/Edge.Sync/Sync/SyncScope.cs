namespace CortexEdge.Sync.Sync;

/// <summary>How much a sync round moves.</summary>
public enum SyncScope
{
    /// <summary>Upload every durable own op and download until up to date.</summary>
    All = 0,

    /// <summary>
    /// Upload until every pending op of a priority collection is acknowledged, and skip the
    /// download. Ops stay in origin-sequence order (the exactly-once rule), so ordinary ops
    /// written before the last priority op travel with it.
    /// </summary>
    PriorityOnly = 1,
}
