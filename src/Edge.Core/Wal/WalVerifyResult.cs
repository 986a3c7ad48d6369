namespace CortexEdge.Core.Wal;

/// <summary>The outcome of <see cref="WriteAheadLog.Verify"/>: clean (with counts) or the first corruption.</summary>
/// <param name="Corruption">The first mid-log corruption, or null when the log is clean.</param>
/// <param name="SegmentCount">Segment files checked.</param>
/// <param name="RecordCount">Valid records before the end (or before the corruption).</param>
/// <param name="FirstLsn">Oldest LSN on disk (0 when there are no segments).</param>
/// <param name="LastLsn">Last valid LSN (0 when there are no segments).</param>
/// <param name="TornTailBytes">Bytes of torn tail the next open would zero (not corruption).</param>
/// <param name="TornTailLocation">"segment offset N" of the torn tail, or null.</param>
public sealed record WalVerifyResult(
    WalCorruption? Corruption,
    int SegmentCount,
    long RecordCount,
    long FirstLsn,
    long LastLsn,
    long TornTailBytes,
    string? TornTailLocation)
{
    /// <summary>True when no corruption was found (a torn tail is not corruption).</summary>
    public bool IsClean => Corruption is null;
}
