namespace CortexEdge.Core.TimeSeries;

/// <summary>One reading of a series: a timestamp in milliseconds since the Unix epoch and a value (any double, kept bit-exact).</summary>
/// <param name="Timestamp">Milliseconds since 1970-01-01T00:00:00Z; within [<see cref="TimeSeriesLimits.TimestampMin"/>, <see cref="TimeSeriesLimits.TimestampMax"/>].</param>
/// <param name="Value">The value; NaN, infinities, signed zeros and denormals are stored bit-exact.</param>
public readonly record struct TimeSeriesReading(long Timestamp, double Value)
{
    /// <summary>True when both readings have the same timestamp and the same value bits (NaN equals NaN with the same payload).</summary>
    public bool BitEquals(TimeSeriesReading other) =>
        Timestamp == other.Timestamp && BitConverter.DoubleToUInt64Bits(Value) == BitConverter.DoubleToUInt64Bits(other.Value);
}
