namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Running aggregates over readings added in timestamp order, or over whole chunk headers in
/// timestamp order. The one place the NaN and min/max rules are applied: chunk headers and
/// downsample buckets both come from here. A mutable struct; allocates nothing.
/// </summary>
internal struct ReadingStatistics
{
    public int Count;
    public int NanCount;
    public double Min;
    public double Max;
    public double Sum;
    public long FirstTimestamp;
    public long LastTimestamp;
    public double First;
    public double Last;

    public static ReadingStatistics Empty => new() { Min = double.NaN, Max = double.NaN };

    /// <summary>Adds a reading later than every reading added so far.</summary>
    public void Add(long timestamp, double value)
    {
        if (Count == 0)
        {
            FirstTimestamp = timestamp;
            First = value;
        }

        Count++;
        LastTimestamp = timestamp;
        Last = value;
        if (double.IsNaN(value))
        {
            NanCount++;
            return;
        }

        Sum += value;
        // NaN compares false: the first non-NaN value replaces the NaN start.
        if (!(value >= Min))
        {
            Min = value;
        }

        if (!(value <= Max))
        {
            Max = value;
        }
    }

    /// <summary>Adds a whole chunk later than every reading added so far, using its header only.</summary>
    public void Add(in ChunkHeader header)
    {
        if (Count == 0)
        {
            FirstTimestamp = header.FirstTimestamp;
            First = header.FirstValue;
        }

        Count += header.Count;
        NanCount += header.NanCount;
        LastTimestamp = header.LastTimestamp;
        Last = header.LastValue;
        if (header.Count == header.NanCount)
        {
            return;
        }

        Sum += header.Sum;
        if (!(header.Min >= Min))
        {
            Min = header.Min;
        }

        if (!(header.Max <= Max))
        {
            Max = header.Max;
        }
    }

    public readonly TimeSeriesBucket ToBucket(long start) => new()
    {
        Start = start,
        Count = Count,
        NanCount = NanCount,
        Min = Min,
        Max = Max,
        Sum = Sum,
        First = First,
        Last = Last,
        FirstTimestamp = FirstTimestamp,
        LastTimestamp = LastTimestamp,
    };
}
