namespace CortexEdge.Core.TimeSeries;

/// <summary>What a time-series WAL record does.</summary>
internal enum TimeSeriesOperationKind : byte
{
    /// <summary>Readings for one or more series.</summary>
    Append = 1,

    /// <summary>Retention: drop whole chunks of one series older than a cutoff.</summary>
    DropBefore = 2,

    /// <summary>Remove a series and all its readings.</summary>
    DeleteSeries = 3,
}

/// <summary>A decoded time-series WAL record body.</summary>
internal sealed class TimeSeriesOperation
{
    public TimeSeriesOperationKind Kind { get; init; }

    /// <summary>For <see cref="TimeSeriesOperationKind.Append"/>: the readings per series, in the order written.</summary>
    public List<(string Series, TimeSeriesReading[] Readings)> Groups { get; } = [];

    /// <summary>For retention and delete: the series.</summary>
    public string Series { get; init; } = "";

    /// <summary>For <see cref="TimeSeriesOperationKind.DropBefore"/>: the cutoff, ms.</summary>
    public long Cutoff { get; init; }
}
