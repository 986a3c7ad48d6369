namespace CortexEdge.Sync.Protocol;

/// <summary>Per-op flags carried on the wire.</summary>
[Flags]
public enum SyncOpFlags : byte
{
    /// <summary>A normal op.</summary>
    None = 0,

    /// <summary>The op belongs to a priority collection (synced first on constrained links).</summary>
    Priority = 1,

    /// <summary>The op deletes (tombstones) a document.</summary>
    Delete = 2,
}
