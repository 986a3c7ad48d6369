using CortexEdge.Core.TimeSeries;
namespace CortexEdge.Agent.Ingest;

/// <summary>A payload that is one number, e.g. <c>21.5</c>; stamped with the arrival time.</summary>
public sealed class NumberPayloadParser : PayloadParser
{
    /// <inheritdoc />
    public override bool TryParse(ReadOnlySpan<byte> payload, long arrivalUnixMs, List<TimeSeriesReading> readings, out string? error)
    {
        if (payload.Length > PayloadBytesMax)
        {
            error = $"payload of {payload.Length} bytes exceeds {PayloadBytesMax}";
            return false;
        }

        if (!TryParseNumber(payload, out double value))
        {
            error = "payload is not a number";
            return false;
        }

        readings.Add(new TimeSeriesReading(arrivalUnixMs, value));
        error = null;
        return true;
    }
}
