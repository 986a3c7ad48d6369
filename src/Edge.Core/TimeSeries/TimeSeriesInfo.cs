namespace CortexEdge.Core.TimeSeries;

/// <summary>A series as listed by the store.</summary>
/// <param name="Name">The series name.</param>
/// <param name="Count">Readings stored.</param>
/// <param name="FirstTimestamp">Earliest timestamp (ms), or 0 when empty.</param>
/// <param name="LastTimestamp">Latest timestamp (ms), or 0 when empty.</param>
/// <param name="ClosedChunks">Closed chunks (the open head chunk is not counted).</param>
/// <param name="ChunkBytes">Bytes of the closed chunks' encodings, headers included.</param>
public readonly record struct TimeSeriesInfo(string Name, long Count, long FirstTimestamp, long LastTimestamp, int ClosedChunks, long ChunkBytes);
