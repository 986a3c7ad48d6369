using System.Buffers;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Readings of one chunk held decoded and sorted by timestamp: the open (head) chunk, or a closed
/// chunk that late readings are being merged into. Inserting a timestamp already present replaces
/// its value (last write wins). Arrays come from <see cref="ArrayPool{T}"/>; appends in timestamp
/// order are O(1), a late insert shifts the tail. Not thread-safe.
/// </summary>
internal sealed class ChunkBuffer : IDisposable
{
    private long[] _timestamps;
    private double[] _values;

    public ChunkBuffer(int initialCapacity = 64)
    {
        _timestamps = ArrayPool<long>.Shared.Rent(initialCapacity);
        _values = ArrayPool<double>.Shared.Rent(initialCapacity);
    }

    public int Count { get; private set; }

    /// <summary>LSN of the earliest WAL record that put a reading still in this buffer (0 when unknown).</summary>
    public long FirstLsn { get; set; }

    /// <summary>The count at which a head's encoded size is measured next (see <see cref="TimeSeriesOptions.ChunkBytesTarget"/>).</summary>
    public int NextSizeCheck { get; set; } = FirstSizeCheck;

    /// <summary>True once a head's encoding reached the bytes target: it takes no more readings.</summary>
    public bool BytesTargetReached { get; set; }

    /// <summary>The count of the first size measurement: below it no chunk of sensor data nears a page.</summary>
    public const int FirstSizeCheck = 32;

    // The last measurement's encoding; every change drops it, so while set it is current and
    // sealing reuses it. A buffer belongs to one stream, so its series id never differs.
    private byte[]? _measured;

    /// <summary>Encodes the whole buffer as a chunk and keeps it for <see cref="TakeEncoding"/>.</summary>
    public byte[] Measure(long seriesId) => _measured = Encode(seriesId, 0, Count);

    /// <summary>Drops the last measurement's encoding.</summary>
    public void ForgetMeasurement() => _measured = null;

    /// <summary>The whole buffer encoded as a chunk: the last measurement when nothing changed since, else a new encoding.</summary>
    public byte[] TakeEncoding(long seriesId)
    {
        byte[] bytes = _measured ?? Encode(seriesId, 0, Count);
        _measured = null;
        return bytes;
    }

    public long FirstTimestamp => _timestamps[0];

    public long LastTimestamp => _timestamps[Count - 1];

    public ReadOnlySpan<long> Timestamps => _timestamps.AsSpan(0, Count);

    public ReadOnlySpan<double> Values => _values.AsSpan(0, Count);

    /// <summary>Inserts or replaces a reading.</summary>
    /// <returns>True when the timestamp was new, false when an existing value was replaced.</returns>
    public bool Insert(long timestamp, double value)
    {
        _measured = null;
        if (Count == 0 || timestamp > _timestamps[Count - 1])
        {
            EnsureCapacity(Count + 1);
            _timestamps[Count] = timestamp;
            _values[Count] = value;
            Count++;
            return true;
        }

        int index = _timestamps.AsSpan(0, Count).BinarySearch(timestamp);
        if (index >= 0)
        {
            _values[index] = value;
            return false;
        }

        index = ~index;
        EnsureCapacity(Count + 1);
        Array.Copy(_timestamps, index, _timestamps, index + 1, Count - index);
        Array.Copy(_values, index, _values, index + 1, Count - index);
        _timestamps[index] = timestamp;
        _values[index] = value;
        Count++;
        return true;
    }

    public bool Contains(long timestamp) => _timestamps.AsSpan(0, Count).BinarySearch(timestamp) >= 0;

    /// <summary>Replaces the content with a decoded chunk.</summary>
    public void LoadFrom(ReadOnlySpan<byte> chunk, string location)
    {
        _measured = null;
        ChunkHeader header = ChunkHeader.Read(chunk, location);
        EnsureCapacity(header.Count);
        ChunkCodec.Decode(chunk, _timestamps, _values, location);
        Count = header.Count;
    }

    /// <summary>Encodes readings [<paramref name="start"/>, <paramref name="start"/>+<paramref name="count"/>) as a new chunk.</summary>
    public byte[] Encode(long seriesId, int start, int count)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(ChunkCodec.MaxEncodedBytes(count));
        try
        {
            int length = ChunkCodec.Encode(seriesId, _timestamps.AsSpan(start, count), _values.AsSpan(start, count), scratch);
            return scratch.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Keeps the first <paramref name="count"/> readings.</summary>
    public void Truncate(int count)
    {
        _measured = null;
        Count = Math.Min(count, Count);
    }

    /// <summary>Removes every reading.</summary>
    public void Clear()
    {
        _measured = null;
        Count = 0;
        FirstLsn = 0;
        NextSizeCheck = FirstSizeCheck;
        BytesTargetReached = false;
    }

    public void Dispose()
    {
        ArrayPool<long>.Shared.Return(_timestamps);
        ArrayPool<double>.Shared.Return(_values);
        _timestamps = [];
        _values = [];
        Count = 0;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _timestamps.Length)
        {
            return;
        }

        int size = Math.Max(needed, _timestamps.Length * 2);
        long[] timestamps = ArrayPool<long>.Shared.Rent(size);
        double[] values = ArrayPool<double>.Shared.Rent(size);
        Array.Copy(_timestamps, timestamps, Count);
        Array.Copy(_values, values, Count);
        ArrayPool<long>.Shared.Return(_timestamps);
        ArrayPool<double>.Shared.Return(_values);
        _timestamps = timestamps;
        _values = values;
    }
}
