namespace CortexEdge.Core.TimeSeries;

/// <summary>When a head chunk closes. The bounds use the readings, not the wall clock, so replaying the WAL rebuilds the same data.</summary>
public sealed class TimeSeriesOptions
{
    /// <summary>
    /// A chunk closes once it holds this many readings (default 8192; 1..<see cref="TimeSeriesLimits.ChunkReadingsMax"/>).
    /// This is the hard size bound: an encoded reading takes at most 19 bytes, so a chunk never
    /// exceeds 84 + 19 × (count − 1) bytes; regular sensor data takes 0.2–3 bytes per reading.
    /// </summary>
    public int ChunkReadingsMax { get; init; } = 8192;

    /// <summary>
    /// A chunk closes once its encoding reaches about this many bytes (default 4000; 0 turns the
    /// bound off). The state store keeps a closed chunk in one row of 4 KiB pages: a chunk of 4000
    /// bytes fills a page without spilling to an overflow page, where a bound in readings alone
    /// leaves pages half empty for data that compresses well (and SQLite writes every page twice).
    /// The head is encoded at a few counts only, each set halfway to where the bound would be
    /// reached at the density last measured, so a chunk ends within a few percent under it.
    /// </summary>
    public int ChunkBytesTarget { get; init; } = 4000;

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
        if (ChunkBytesTarget != 0)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(ChunkBytesTarget, ChunkHeader.Size + 64, nameof(ChunkBytesTarget));
        }
    }
}
