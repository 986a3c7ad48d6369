using CortexEdge.Core.TimeSeries;
namespace CortexEdge.Agent.Ingest;

/// <summary>
/// A payload of lines <c>timestamp,value</c> (a sensor flushing its buffer). Blank lines are
/// skipped; one bad line refuses the whole payload, so a batch is stored whole or not at all.
/// </summary>
public sealed class LinesPayloadParser(TimestampUnit unit) : PayloadParser
{
    /// <inheritdoc />
    public override bool TryParse(ReadOnlySpan<byte> payload, long arrivalUnixMs, List<TimeSeriesReading> readings, out string? error)
    {
        if (payload.Length > PayloadBytesMax)
        {
            error = $"payload of {payload.Length} bytes exceeds {PayloadBytesMax}";
            return false;
        }

        int before = readings.Count;
        int lineNumber = 0;
        while (!payload.IsEmpty)
        {
            lineNumber++;
            int newline = payload.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = Trim(newline < 0 ? payload : payload[..newline]);
            payload = newline < 0 ? [] : payload[(newline + 1)..];
            if (line.IsEmpty)
            {
                continue;
            }

            int comma = line.IndexOf((byte)',');
            if (comma < 0 || !TryParseTimestamp(line[..comma], unit, out long timestamp) || !TryParseNumber(line[(comma + 1)..], out double value))
            {
                readings.RemoveRange(before, readings.Count - before);
                error = $"line {lineNumber} is not 'timestamp,value'";
                return false;
            }

            readings.Add(new TimeSeriesReading(timestamp, value));
        }

        if (readings.Count == before)
        {
            error = "payload holds no lines";
            return false;
        }

        error = null;
        return true;
    }
}
