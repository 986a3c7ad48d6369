namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Aggregates of the readings whose timestamps fall in [<see cref="Start"/>, <see cref="Start"/> +
/// bucket width). NaN readings are counted in <see cref="Count"/> and <see cref="NanCount"/> and may
/// be <see cref="First"/>/<see cref="Last"/>, but are left out of <see cref="Min"/>,
/// <see cref="Max"/>, <see cref="Sum"/> and <see cref="Average"/>. Infinities take part in all of
/// them under IEEE rules (+Inf plus -Inf is NaN).
/// </summary>
public readonly record struct TimeSeriesBucket
{
    /// <summary>Start of the bucket, ms since the Unix epoch (a multiple of the bucket width).</summary>
    public long Start { get; init; }

    /// <summary>Number of readings in the bucket (NaN readings included).</summary>
    public int Count { get; init; }

    /// <summary>Number of NaN readings in the bucket.</summary>
    public int NanCount { get; init; }

    /// <summary>Smallest non-NaN value; NaN when there is none.</summary>
    public double Min { get; init; }

    /// <summary>Largest non-NaN value; NaN when there is none.</summary>
    public double Max { get; init; }

    /// <summary>Sum of the non-NaN values (per chunk in timestamp order, then across chunks).</summary>
    public double Sum { get; init; }

    /// <summary>Value of the earliest reading in the bucket (bit-exact, may be NaN).</summary>
    public double First { get; init; }

    /// <summary>Value of the latest reading in the bucket (bit-exact, may be NaN).</summary>
    public double Last { get; init; }

    /// <summary>Timestamp of the earliest reading in the bucket.</summary>
    public long FirstTimestamp { get; init; }

    /// <summary>Timestamp of the latest reading in the bucket.</summary>
    public long LastTimestamp { get; init; }

    /// <summary>Mean of the non-NaN values; NaN when there is none.</summary>
    public double Average => Count - NanCount == 0 ? double.NaN : Sum / (Count - NanCount);

    /// <summary>
    /// The bucket over both buckets' readings, for one interval aggregated separately per origin.
    /// <paramref name="lower"/> holds the lower origin's readings: on equal timestamps they order
    /// first (so it gives <see cref="First"/> on a tie and <paramref name="higher"/> gives
    /// <see cref="Last"/>), and it wins min/max ties (−0.0 against +0.0).
    /// </summary>
    internal static TimeSeriesBucket Combine(in TimeSeriesBucket lower, in TimeSeriesBucket higher)
    {
        bool firstFromHigher = higher.FirstTimestamp < lower.FirstTimestamp;
        bool lastFromHigher = higher.LastTimestamp >= lower.LastTimestamp;
        return new TimeSeriesBucket
        {
            Start = lower.Start,
            Count = lower.Count + higher.Count,
            NanCount = lower.NanCount + higher.NanCount,
            // NaN means "no non-NaN value": the other side's value (or NaN) then stands.
            Min = double.IsNaN(lower.Min) || higher.Min < lower.Min ? higher.Min : lower.Min,
            Max = double.IsNaN(lower.Max) || higher.Max > lower.Max ? higher.Max : lower.Max,
            Sum = lower.Sum + higher.Sum,
            First = firstFromHigher ? higher.First : lower.First,
            FirstTimestamp = firstFromHigher ? higher.FirstTimestamp : lower.FirstTimestamp,
            Last = lastFromHigher ? higher.Last : lower.Last,
            LastTimestamp = lastFromHigher ? higher.LastTimestamp : lower.LastTimestamp,
        };
    }

    /// <summary>Picks one aggregate by kind.</summary>
    public double Get(TimeSeriesAggregate aggregate) => aggregate switch
    {
        TimeSeriesAggregate.Min => Min,
        TimeSeriesAggregate.Max => Max,
        TimeSeriesAggregate.Average => Average,
        TimeSeriesAggregate.Sum => Sum,
        TimeSeriesAggregate.Count => Count,
        TimeSeriesAggregate.First => First,
        TimeSeriesAggregate.Last => Last,
        _ => throw new ArgumentOutOfRangeException(nameof(aggregate), aggregate, "unknown aggregate"),
    };
}

/// <summary>One aggregate of a <see cref="TimeSeriesBucket"/>, for callers (the CLI) that show a single column.</summary>
public enum TimeSeriesAggregate
{
    /// <summary>Mean of the non-NaN values.</summary>
    Average,

    /// <summary>Smallest non-NaN value.</summary>
    Min,

    /// <summary>Largest non-NaN value.</summary>
    Max,

    /// <summary>Sum of the non-NaN values.</summary>
    Sum,

    /// <summary>Number of readings.</summary>
    Count,

    /// <summary>Earliest value.</summary>
    First,

    /// <summary>Latest value.</summary>
    Last,
}
