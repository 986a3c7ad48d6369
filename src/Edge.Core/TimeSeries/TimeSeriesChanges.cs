namespace CortexEdge.Core.TimeSeries;

/// <summary>What changed in a <see cref="TimeSeriesStore"/> since the last checkpoint: the rows to write.</summary>
internal sealed class TimeSeriesChanges
{
    /// <summary>(Series, origin) stream rows to insert or update (name, creation LSN, retention floor, closed-through mark, origin; a legacy row keeps no origin).</summary>
    public List<(long SeriesId, string Name, long CreatedLsn, long RetentionFloor, long ClosedThrough, ulong Origin, bool LegacyOrigin)> Series { get; } = [];

    /// <summary>Series whose rows (and chunks) are gone.</summary>
    public List<long> DeletedSeries { get; } = [];

    /// <summary>Chunk rows to insert or replace.</summary>
    public List<(long SeriesId, long ChunkId, ChunkHeader Header, byte[] Bytes)> Chunks { get; } = [];

    /// <summary>Chunk rows to delete.</summary>
    public List<long> DeletedChunks { get; } = [];

    public bool IsEmpty => Series.Count == 0 && DeletedSeries.Count == 0 && Chunks.Count == 0 && DeletedChunks.Count == 0;
}
