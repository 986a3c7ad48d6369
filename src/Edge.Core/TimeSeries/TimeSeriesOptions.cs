namespace CortexEdge.Core.TimeSeries;

/// <summary>When a head chunk closes. Both bounds use reading timestamps, not the wall clock, so replaying the WAL rebuilds the same chunks.</summary>
public sealed class TimeSeriesOptions
{
    /// <summary>
    /// A chunk closes once it holds this many readings (default 4096; 1..<see cref="TimeSeriesLimits.ChunkReadingsMax"/>).
    /// This is the size bound: an encoded reading takes at most 19 bytes, so a chunk never exceeds
    /// 84 + 19 × (count − 1) bytes; regular sensor data takes 1–3 bytes per reading.
    /// </summary>
    public int ChunkReadingsMax { get; init; } = 4096;

    /// <summary>
    /// A chunk closes before it would span this much time from its first to its last reading
    /// (default 2 hours, the Gorilla paper's block). A gap this long always starts a new chunk.
    /// </summary>
    public TimeSpan ChunkSpan { get; init; } = TimeSpan.FromHours(2);

    internal long ChunkSpanMs => (long)ChunkSpan.TotalMilliseconds;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkReadingsMax, 1, nameof(ChunkReadingsMax));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ChunkReadingsMax, TimeSeriesLimits.ChunkReadingsMax, nameof(ChunkReadingsMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkSpan, TimeSpan.FromMilliseconds(1), nameof(ChunkSpan));
    }
}
