namespace CortexEdge.Sync.Sync;

/// <summary>When a <see cref="MemorySyncStore"/>'s journal entries become durable.</summary>
public enum MemoryDurability
{
    /// <summary>Each entry is durable when written (the WAL's Always mode).</summary>
    Always,

    /// <summary>Entries are durable only after <see cref="MemorySyncStore.Flush"/> (the WAL's Periodic and Group modes).</summary>
    OnFlush,
}
