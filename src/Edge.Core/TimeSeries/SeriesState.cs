namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// The readings one origin replica wrote to one series, in memory: the index of its closed chunks
/// (sorted by time, disjoint) and its open head chunk, whose readings are all later than every
/// closed chunk's. A series is the set union of its origins' streams (see
/// <see cref="TimeSeriesStore"/>); each stream has strictly increasing timestamps.
/// </summary>
internal sealed class SeriesState : IDisposable
{
    public SeriesState(long seriesId, string name, long createdLsn, ulong origin = 0)
    {
        SeriesId = seriesId;
        Name = name;
        CreatedLsn = createdLsn;
        Origin = origin;
    }

    /// <summary>Id of this (series, origin) stream: the chunk rows' series id.</summary>
    public long SeriesId { get; }

    public string Name { get; }

    /// <summary>The replica whose ops wrote these readings.</summary>
    public ulong Origin { get; }

    /// <summary>
    /// True for a stream persisted before readings kept their origin (its row has no origin): it
    /// holds whatever origins wrote to the series then, is treated as the local replica's, and on
    /// recovery takes head replay of records older than its origin's own stream.
    /// </summary>
    public bool LegacyOrigin { get; init; }

    /// <summary>LSN of the record that created this incarnation of the series (WAL records before it belong to a deleted one).</summary>
    public long CreatedLsn { get; }

    /// <summary>Readings with a timestamp below this are rejected: an earlier retention pass expired that time.</summary>
    public long RetentionFloor { get; set; } = long.MinValue;

    /// <summary>Closed chunks, sorted by first timestamp; time ranges never overlap.</summary>
    public List<ChunkEntry> Chunks { get; } = [];

    /// <summary>The open chunk; all its readings are later than <see cref="ClosedThrough"/>.</summary>
    public ChunkBuffer Head { get; private set; } = new();

    /// <summary>Hands the head's buffer over (to become a closed chunk) and starts an empty head.</summary>
    public ChunkBuffer DetachHead()
    {
        ChunkBuffer detached = Head;
        detached.ForgetMeasurement(); // kept decoded, possibly for long: no page-sized copy beside it
        Head = new ChunkBuffer();
        return detached;
    }

    /// <summary>True when the series row itself (name, floor) changed since the last checkpoint.</summary>
    public bool Dirty { get; set; }

    /// <summary>
    /// High-water mark of closed time: the latest timestamp ever closed (sealed into a chunk) or
    /// expired (retention cutoff − 1). Never decreases, also when retention drops chunks, so a
    /// reading at or before it can never reach the head again; the head is rebuilt from the WAL
    /// by taking exactly the readings after it.
    /// </summary>
    public long ClosedThrough { get; set; } = long.MinValue;

    public long Count
    {
        get
        {
            long count = Head.Count;
            foreach (ChunkEntry chunk in Chunks)
            {
                count += chunk.Count;
            }

            return count;
        }
    }

    /// <summary>Index of the last chunk whose first timestamp is at or before <paramref name="timestamp"/>, or -1.</summary>
    public int FindChunkAtOrBefore(long timestamp)
    {
        int low = 0;
        int high = Chunks.Count - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) / 2);
            if (Chunks[middle].FirstTimestamp <= timestamp)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return high;
    }

    public void Dispose()
    {
        Head.Dispose();
        foreach (ChunkEntry chunk in Chunks)
        {
            chunk.Pending?.Dispose();
            chunk.Pending = null;
        }
    }
}
