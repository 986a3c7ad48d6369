namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// One closed chunk of a series in the store's index. Its readings are either encoded
/// (<see cref="Bytes"/>, or on disk when that is null) or, while late readings are merged into it,
/// decoded in <see cref="Pending"/> until the next <see cref="TimeSeriesStore.TakeChanges"/>.
/// </summary>
internal sealed class ChunkEntry
{
    public ChunkEntry(long chunkId, ChunkHeader header, byte[]? bytes)
    {
        ChunkId = chunkId;
        Header = header;
        Bytes = bytes;
    }

    /// <summary>Stable id (the SQLite row key once persisted).</summary>
    public long ChunkId { get; }

    /// <summary>Header of the encoded form; stale while <see cref="Pending"/> is set.</summary>
    public ChunkHeader Header { get; set; }

    /// <summary>The encoding, or null when it is only in the chunk source (disk).</summary>
    public byte[]? Bytes { get; set; }

    /// <summary>Decoded readings being modified, or null.</summary>
    public ChunkBuffer? Pending { get; set; }

    /// <summary>LSN of the operation that last changed the chunk (0 when loaded from disk unchanged).</summary>
    public long LastChangedLsn { get; set; }

    /// <summary>True when the entry changed since the last <see cref="TimeSeriesStore.TakeChanges"/>.</summary>
    public bool Dirty { get; set; }

    public long FirstTimestamp => Pending is { } p ? p.FirstTimestamp : Header.FirstTimestamp;

    public long LastTimestamp => Pending is { } p ? p.LastTimestamp : Header.LastTimestamp;

    public int Count => Pending is { } p ? p.Count : Header.Count;
}
