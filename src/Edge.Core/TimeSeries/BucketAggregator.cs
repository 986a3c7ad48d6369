namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Folds readings and whole chunk headers, fed in timestamp order, into fixed-width buckets aligned
/// to multiples of the width since the epoch, appending each finished bucket to a list.
/// </summary>
internal struct BucketAggregator
{
    private readonly long _widthMs;
    private readonly List<TimeSeriesBucket> _output;
    private ReadingStatistics _current;
    private long _currentStart;
    private bool _open;

    public BucketAggregator(long widthMs, List<TimeSeriesBucket> output)
    {
        _widthMs = widthMs;
        _output = output;
        _current = ReadingStatistics.Empty;
        _currentStart = 0;
        _open = false;
    }

    /// <summary>Start of the bucket holding <paramref name="timestamp"/> (floor, also for negative timestamps).</summary>
    public readonly long BucketOf(long timestamp)
    {
        long remainder = timestamp % _widthMs;
        return remainder < 0 ? timestamp - remainder - _widthMs : timestamp - remainder;
    }

    public void Add(long timestamp, double value)
    {
        MoveTo(BucketOf(timestamp));
        _current.Add(timestamp, value);
    }

    /// <summary>Adds a chunk that lies inside one bucket, from its header.</summary>
    public void AddChunk(in ChunkHeader header)
    {
        MoveTo(BucketOf(header.FirstTimestamp));
        _current.Add(header);
    }

    public void AddRange(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, long from, long to)
    {
        for (int i = TimeSeriesStore.LowerBound(timestamps, from); i < timestamps.Length && timestamps[i] < to; i++)
        {
            Add(timestamps[i], values[i]);
        }
    }

    public void Complete()
    {
        if (_open)
        {
            _output.Add(_current.ToBucket(_currentStart));
            _open = false;
        }
    }

    private void MoveTo(long start)
    {
        if (_open && start == _currentStart)
        {
            return;
        }

        Complete();
        _current = ReadingStatistics.Empty;
        _currentStart = start;
        _open = true;
    }
}
