namespace CortexEdge.Agent.Ingest;

/// <summary>Batching and logging limits of <see cref="SensorIngest"/>.</summary>
public sealed record SensorIngestOptions
{
    /// <summary>Readings per batch at most; a full batch is written at once.</summary>
    public int BatchMaxReadings { get; init; } = 5000;

    /// <summary>Longest a reading waits for its batch to be written.</summary>
    public TimeSpan BatchMaxDelay { get; init; } = TimeSpan.FromMilliseconds(100);

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
