namespace CortexEdge.Sync.Sync;

/// <summary>A leader snapshot: the state at <paramref name="Lsn"/> in the store's own encoding.</summary>
/// <param name="Lsn">The leader LSN the snapshot covers.</param>
/// <param name="Data">The encoded state.</param>
public sealed record SyncSnapshot(long Lsn, byte[] Data);
