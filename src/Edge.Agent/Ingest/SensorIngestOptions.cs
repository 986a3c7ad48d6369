namespace CortexEdge.Agent.Ingest;

/// <summary>Batching and logging limits of <see cref="SensorIngest"/>.</summary>
public sealed record SensorIngestOptions
{
    /// <summary>Readings per batch at most; a full batch is written at once. Default 16,384.</summary>
    public int BatchMaxReadings { get; init; } = 16_384;

    /// <summary>
    /// Longest a reading waits for its batch to be written. Default 1 s: every flush writes at least
    /// one flash page however few readings it holds, and messages are acknowledged to the broker only
    /// once written, so waiting longer costs latency, not safety.
    /// </summary>
    public TimeSpan BatchMaxDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Readings waiting to be written past which the pump stops taking messages.</summary>
    public int PendingReadingsMax { get; init; } = 100_000;

    /// <summary>At most one parse-error log line per rule per this interval.</summary>
    public TimeSpan ParseErrorLogInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Which series are priority (the manifest's priority-0 entries). When set, a flush writes the
    /// priority series' readings as their own record first, so a priority-only sync can send them
    /// without the ordinary readings of the same flush. Null: one record per flush.
    /// </summary>
    public Func<string, bool>? IsPrioritySeries { get; init; }

    /// <summary>Called after each batch is written (e.g. to wake the sync loop, which sleeps while nothing is pending).</summary>
    public Action? AfterWrite { get; init; }
}
