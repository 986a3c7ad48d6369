namespace CortexEdge.Core.Wal;

/// <summary>What <see cref="WriteAheadLog.Salvage"/> cut from a corrupt log.</summary>
/// <param name="Corruption">The damage found (null: the log was not corrupt and nothing changed).</param>
/// <param name="LastKeptLsn">The last LSN kept; the next append gets the LSN after it.</param>
/// <param name="DroppedBytes">Bytes zeroed in the damaged segment, from the damage to its last nonzero byte.</param>
/// <param name="DroppedSegmentCount">Segment files after the damaged one that were deleted.</param>
/// <param name="LogEpoch">The log epoch after salvage (raised by one, so replicas can tell the rewritten history apart).</param>
public sealed record WalSalvageResult(WalCorruption? Corruption, long LastKeptLsn, long DroppedBytes, int DroppedSegmentCount, ulong LogEpoch);
