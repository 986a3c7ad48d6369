using CortexEdge.Core.TimeSeries;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace CortexEdge.Agent.Ingest;

/// <summary>
/// Turns an MQTT payload into readings (timestamp in Unix milliseconds, value). Parsers are
/// stateless and thread-safe; a payload that does not parse yields an error text and no readings.
/// </summary>
public abstract class PayloadParser
{
    /// <summary>Largest payload a parser looks at; bigger ones are refused as malformed.</summary>
    public const int PayloadBytesMax = 256 * 1024;

    /// <summary>Creates the parser for a rule's format.</summary>
    /// <exception cref="ArgumentException">The format is not number, json or lines.</exception>
    public static PayloadParser Create(string format, string? valuePath, string? timestampPath, TimestampUnit unit) => format switch
    {
        "number" => new NumberPayloadParser(),
        "json" => new JsonPayloadParser(valuePath ?? "value", timestampPath, unit),
        "lines" => new LinesPayloadParser(unit),
        _ => throw new ArgumentException($"unknown payload format '{format}' (number, json or lines)", nameof(format)),
    };

    /// <summary>Parses <paramref name="payload"/>, appending readings to <paramref name="readings"/>.</summary>
    /// <param name="payload">The raw MQTT payload.</param>
    /// <param name="arrivalUnixMs">Used as the timestamp when the payload carries none.</param>
    /// <param name="readings">Receives the readings; untouched when the result is false.</param>
    /// <param name="error">Why the payload was refused, when the result is false.</param>
    public abstract bool TryParse(ReadOnlySpan<byte> payload, long arrivalUnixMs, List<TimeSeriesReading> readings, out string? error);

    /// <summary>Parses a number written in invariant culture (NaN and Infinity allowed).</summary>
    protected static bool TryParseNumber(ReadOnlySpan<byte> text, out double value)
    {
        text = Trim(text);
        if (Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length)
        {
            return true;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Parses a timestamp: an integer or decimal count of <paramref name="unit"/>, or an ISO-8601 date.</summary>
    protected static bool TryParseTimestamp(ReadOnlySpan<byte> text, TimestampUnit unit, out long unixMs)
    {
        text = Trim(text);
        unixMs = 0;
        if (Utf8Parser.TryParse(text, out double number, out int consumed) && consumed == text.Length)
        {
            return TryConvert(number, unit, out unixMs);
        }

        Span<char> chars = stackalloc char[64];
        if (text.Length > chars.Length)
        {
            return false;
        }

        int length = Encoding.UTF8.GetChars(text, chars);
        if (DateTimeOffset.TryParse(chars[..length], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date))
        {
            unixMs = date.ToUnixTimeMilliseconds();
            return true;
        }

        return false;
    }

    /// <summary>Converts a count of <paramref name="unit"/> to Unix milliseconds, refusing non-finite or out-of-range values.</summary>
    protected static bool TryConvert(double number, TimestampUnit unit, out long unixMs)
    {
        double ms = unit switch
        {
            TimestampUnit.Seconds => number * 1000.0,
            TimestampUnit.Microseconds => number / 1000.0,
            _ => number,
        };
        // Years 0001..9999 only: anything else is a unit mistake, not a reading.
        if (!double.IsFinite(ms) || ms < -62_135_596_800_000.0 || ms > 253_402_300_799_999.0)
        {
            unixMs = 0;
            return false;
        }

        unixMs = (long)Math.Round(ms);
        return true;
    }

    /// <summary>Removes ASCII white space at both ends.</summary>
    protected static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> text)
    {
        int start = 0;
        int end = text.Length;
        while (start < end && IsSpace(text[start]))
        {
            start++;
        }

        while (end > start && IsSpace(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
}

/// <summary>Unit of timestamps carried in payloads.</summary>
public enum TimestampUnit
{
    /// <summary>Milliseconds since the Unix epoch.</summary>
    Milliseconds,

    /// <summary>Seconds since the Unix epoch (fractions allowed).</summary>
    Seconds,

    /// <summary>Microseconds since the Unix epoch.</summary>
    Microseconds,
}
