namespace CortexEdge.Core.Wal;

/// <summary>What <see cref="WriteAheadLog.Open"/> found and did while recovering a log.</summary>
/// <param name="SegmentCount">Segment files present after recovery.</param>
/// <param name="RecordCount">Valid records scanned (all records on disk after recovery).</param>
/// <param name="TruncatedBytes">Bytes of torn tail zeroed (0 when the log ended cleanly).</param>
/// <param name="TornTailLocation">"segment offset N" of the cut, or null.</param>
/// <param name="TornTailReason">Why the first byte past the kept records was not a valid record, or null.</param>
/// <param name="DeletedSegmentCount">Segments after a torn tail that held no valid record and were removed.</param>
/// <param name="FirstLsn">Oldest LSN on disk.</param>
/// <param name="LastLsn">Last LSN on disk (FirstLsn - 1 when empty).</param>
/// <param name="Elapsed">Time the scan and repair took.</param>
public sealed record WalRecoveryResult(
    int SegmentCount,
    long RecordCount,
    long TruncatedBytes,
    string? TornTailLocation,
    string? TornTailReason,
    int DeletedSegmentCount,
    long FirstLsn,
    long LastLsn,
    TimeSpan Elapsed);
