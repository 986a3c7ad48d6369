using CortexEdge.Core.TimeSeries;
using System.Text.Json;

namespace CortexEdge.Agent.Ingest;

/// <summary>
/// A JSON object payload; the value (and optionally the timestamp) are found by dotted paths such
/// as <c>reading.value</c>. A numeric string is accepted as a value; a timestamp may be a number
/// in the rule's unit or an ISO-8601 string.
/// </summary>
public sealed class JsonPayloadParser : PayloadParser
{
    private readonly string[] _valuePath;
    private readonly string[]? _timestampPath;
    private readonly TimestampUnit _unit;

    /// <summary>Creates a parser for the given field paths.</summary>
    public JsonPayloadParser(string valuePath, string? timestampPath, TimestampUnit unit)
    {
        _valuePath = valuePath.Split('.');
        _timestampPath = timestampPath?.Split('.');
        _unit = unit;
    }

    /// <inheritdoc />
    public override bool TryParse(ReadOnlySpan<byte> payload, long arrivalUnixMs, List<TimeSeriesReading> readings, out string? error)
    {
        if (payload.Length > PayloadBytesMax)
        {
            error = $"payload of {payload.Length} bytes exceeds {PayloadBytesMax}";
            return false;
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 16 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            error = $"payload is not JSON: {ex.Message}";
            return false;
        }

        using (document)
        {
            if (!TryFind(document.RootElement, _valuePath, out JsonElement valueElement) || !TryReadNumber(valueElement, out double value))
            {
                error = $"no number at '{string.Join('.', _valuePath)}'";
                return false;
            }

            long timestamp = arrivalUnixMs;
            if (_timestampPath is not null)
            {
                if (!TryFind(document.RootElement, _timestampPath, out JsonElement tsElement) || !TryReadTimestamp(tsElement, out timestamp))
                {
                    error = $"no timestamp at '{string.Join('.', _timestampPath)}'";
                    return false;
                }
            }

            readings.Add(new TimeSeriesReading(timestamp, value));
            error = null;
            return true;
        }
    }

    private static bool TryFind(JsonElement element, string[] path, out JsonElement found)
    {
        found = element;
        foreach (string name in path)
        {
            if (found.ValueKind != JsonValueKind.Object || !found.TryGetProperty(name, out found))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryReadNumber(JsonElement element, out double value)
    {
        value = 0;
        return element.ValueKind switch
        {
            JsonValueKind.Number => element.TryGetDouble(out value),
            JsonValueKind.String => TryGetUtf8(element, out byte[] text) && TryParseNumber(text, out value),
            JsonValueKind.True => (value = 1) == 1,
            JsonValueKind.False => (value = 0) == 0,
            _ => false,
        };
    }

    private bool TryReadTimestamp(JsonElement element, out long unixMs)
    {
        unixMs = 0;
        return element.ValueKind switch
        {
            JsonValueKind.Number => element.TryGetDouble(out double number) && TryConvert(number, _unit, out unixMs),
            JsonValueKind.String => TryGetUtf8(element, out byte[] text) && TryParseTimestamp(text, _unit, out unixMs),
            _ => false,
        };
    }

    private static bool TryGetUtf8(JsonElement element, out byte[] text)
    {
        try
        {
            text = System.Text.Encoding.UTF8.GetBytes(element.GetString()!);
            return true;
        }
        catch (InvalidOperationException)
        {
            // The string holds invalid UTF-8: the payload is malformed, not the parser's fault.
            text = [];
            return false;
        }
    }
}
