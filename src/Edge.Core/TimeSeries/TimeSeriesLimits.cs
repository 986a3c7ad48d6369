namespace CortexEdge.Core.TimeSeries;

/// <summary>Hard limits of the time-series format and API. Inputs beyond them are rejected with a typed error.</summary>
public static class TimeSeriesLimits
{
    /// <summary>
    /// Smallest accepted timestamp, in milliseconds since the Unix epoch (about 146 million years
    /// before 1970). The range keeps every difference of two timestamps inside a 64-bit integer.
    /// </summary>
    public const long TimestampMin = -(1L << 62);

    /// <summary>Largest accepted timestamp, in milliseconds since the Unix epoch.</summary>
    public const long TimestampMax = (1L << 62) - 1;

    /// <summary>Most readings one chunk may hold (format limit; the close rule is usually far lower).</summary>
    public const int ChunkReadingsMax = 65_536;

    /// <summary>Longest series name, in UTF-8 bytes.</summary>
    public const int SeriesNameBytesMax = 256;

    /// <summary>Most readings one appended batch (one WAL record) may carry.</summary>
    public const int BatchReadingsMax = 100_000;

    /// <summary>Checks a timestamp against [<see cref="TimestampMin"/>, <see cref="TimestampMax"/>].</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.TimeSeriesTimestampOutOfRange"/>.</exception>
    public static void ValidateTimestamp(long timestamp)
    {
        if (timestamp is < TimestampMin or > TimestampMax)
        {
            ThrowTimestamp(timestamp);
        }
    }

    /// <summary>
    /// Checks a series name: 1..<see cref="SeriesNameBytesMax"/> UTF-8 bytes, no control characters
    /// (names appear in CLI output and logs).
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.TimeSeriesNameInvalid"/>.</exception>
    public static void ValidateSeriesName(string series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Length == 0)
        {
            throw new EdgeException(EdgeErrorCode.TimeSeriesNameInvalid, "A series name must not be empty.");
        }

        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(series);
        }
        catch (ArgumentException e)
        {
            throw new EdgeException(EdgeErrorCode.TimeSeriesNameInvalid, "A series name contains a lone UTF-16 surrogate.", e);
        }

        if (bytes > SeriesNameBytesMax)
        {
            throw new EdgeException(EdgeErrorCode.TimeSeriesNameInvalid, $"Series name '{series[..32]}...' is {bytes} UTF-8 bytes; the limit is {SeriesNameBytesMax}.");
        }

        foreach (char c in series)
        {
            if (char.IsControl(c))
            {
                throw new EdgeException(EdgeErrorCode.TimeSeriesNameInvalid, $"A series name contains the control character U+{(int)c:X4}.");
            }
        }
    }

    /// <summary>UTF-8 that throws on lone surrogates instead of replacing them.</summary>
    internal static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowTimestamp(long timestamp) =>
        throw new EdgeException(EdgeErrorCode.TimeSeriesTimestampOutOfRange, $"Timestamp {timestamp} ms is outside [{TimestampMin}, {TimestampMax}].");
}
