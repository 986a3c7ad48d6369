namespace CortexEdge.Core.TimeSeries;

/// <summary>Where closed chunks live when the store does not keep their bytes in memory (the SQLite table).</summary>
internal interface ITimeSeriesChunkSource
{
    /// <summary>Returns the stored encoding of a chunk.</summary>
    /// <exception cref="EdgeCorruptionException">The chunk is missing.</exception>
    byte[] LoadChunk(long seriesId, long chunkId);
}
