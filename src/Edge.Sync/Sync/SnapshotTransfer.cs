namespace CortexEdge.Sync.Sync;

/// <summary>A snapshot transfer being received: which snapshot, and the next chunk needed.</summary>
/// <param name="SnapshotId">The leader's id of the snapshot.</param>
/// <param name="SnapshotLsn">The leader LSN it covers.</param>
/// <param name="Total">Number of chunks.</param>
/// <param name="TotalBytes">Length of the whole snapshot.</param>
/// <param name="Checksum">CRC32C of the whole snapshot.</param>
/// <param name="NextChunk">Index of the first chunk not yet received.</param>
public sealed record SnapshotTransfer(ulong SnapshotId, long SnapshotLsn, int Total, long TotalBytes, uint Checksum, int NextChunk);
