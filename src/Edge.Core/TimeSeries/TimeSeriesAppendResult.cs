namespace CortexEdge.Core.TimeSeries;

/// <summary>What happened to the readings of one append.</summary>
/// <param name="Added">Readings stored at a (timestamp, origin) the series did not have.</param>
/// <param name="Replaced">Readings that replaced the value the same origin wrote at that timestamp (last write wins within an origin).</param>
/// <param name="Expired">Readings rejected because they are older than the series' retention floor.</param>
public readonly record struct TimeSeriesAppendResult(int Added, int Replaced, int Expired)
{
    /// <summary>Sums two results.</summary>
    public static TimeSeriesAppendResult operator +(TimeSeriesAppendResult a, TimeSeriesAppendResult b) =>
        new(a.Added + b.Added, a.Replaced + b.Replaced, a.Expired + b.Expired);
}
