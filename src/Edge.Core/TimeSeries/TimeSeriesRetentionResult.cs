namespace CortexEdge.Core.TimeSeries;

/// <summary>What a retention pass removed from one series: whole chunks only.</summary>
/// <param name="ChunksDropped">Chunks removed (the open head chunk counts as one when it expired whole).</param>
/// <param name="ReadingsDropped">Readings in those chunks.</param>
/// <param name="ReadingsKept">Readings still in the series afterwards (some may be older than the cutoff, in chunks that also hold newer readings).</param>
public readonly record struct TimeSeriesRetentionResult(int ChunksDropped, long ReadingsDropped, long ReadingsKept);
