using System.Buffers.Binary;
using System.Collections.Concurrent;
using CortexEdge.Core.Binary;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// The body of a <see cref="Wal.WalRecordKind.TimeSeriesBatch"/> record (after the operation
/// header). Version 1, little endian:
/// <code>
/// u8 version (1)   u8 kind (1 append, 2 drop-before, 3 delete-series)
/// append:       varint groups; per group: varint name bytes, UTF-8 name, varint count,
///               then per reading: zigzag varint (timestamp − previous timestamp, the first from 0), f64 value
/// drop-before:  varint name bytes, UTF-8 name, i64 cutoff
/// delete:       varint name bytes, UTF-8 name
/// </code>
/// Decoding checks every length, name, count (total at most <see cref="TimeSeriesLimits.BatchReadingsMax"/>),
/// timestamp range and that nothing trails: a failure is <see cref="EdgeCorruptionException"/> with
/// <see cref="EdgeErrorCode.TimeSeriesBatchMalformed"/>.
/// </summary>
internal static class TimeSeriesBatchCodec
{
    public const byte Version = 1;

    /// <summary>Bytes that always suffice for an append of these groups.</summary>
    public static int MaxAppendBytes(int groupCount, int readingCount) =>
        2 + VarInt.UInt64BytesMax + (groupCount * (2 * VarInt.UInt64BytesMax + TimeSeriesLimits.SeriesNameBytesMax)) + (readingCount * (VarInt.UInt64BytesMax + 8));

    /// <summary>Writes an append of one series.</summary>
    public static int WriteAppend(Span<byte> destination, string series, ReadOnlySpan<TimeSeriesReading> readings)
    {
        int position = 0;
        destination[position++] = Version;
        destination[position++] = (byte)TimeSeriesOperationKind.Append;
        position += VarInt.Write(destination[position..], 1);
        position += WriteGroup(destination[position..], series, readings);
        return position;
    }

    /// <summary>Writes an append of several series (each group's readings in the order given).</summary>
    public static int WriteAppend(Span<byte> destination, IReadOnlyList<(string Series, ReadOnlyMemory<TimeSeriesReading> Readings)> groups)
    {
        int position = 0;
        destination[position++] = Version;
        destination[position++] = (byte)TimeSeriesOperationKind.Append;
        position += VarInt.Write(destination[position..], (ulong)groups.Count);
        foreach ((string series, ReadOnlyMemory<TimeSeriesReading> readings) in groups)
        {
            position += WriteGroup(destination[position..], series, readings.Span);
        }

        return position;
    }

    public static int WriteDropBefore(Span<byte> destination, string series, long cutoff)
    {
        int position = WriteSeriesOperation(destination, TimeSeriesOperationKind.DropBefore, series);
        BinaryPrimitives.WriteInt64LittleEndian(destination[position..], cutoff);
        return position + 8;
    }

    public static int WriteDeleteSeries(Span<byte> destination, string series) =>
        WriteSeriesOperation(destination, TimeSeriesOperationKind.DeleteSeries, series);

    public static int MaxSeriesOperationBytes => 2 + VarInt.UInt64BytesMax + TimeSeriesLimits.SeriesNameBytesMax + 8;

    /// <summary>Decodes a record body.</summary>
    /// <param name="body">The body after the operation header.</param>
    /// <param name="location">Where it came from (e.g. "WAL LSN 42"), for error messages.</param>
    /// <param name="names">Optional cache of series names already validated: repeated names then cost no allocation.</param>
    /// <exception cref="EdgeCorruptionException"><see cref="EdgeErrorCode.TimeSeriesBatchMalformed"/>.</exception>
    public static TimeSeriesOperation Decode(ReadOnlySpan<byte> body, string location, ConcurrentDictionary<string, string>? names = null)
    {
        int position = 0;
        if (body.Length < 2)
        {
            throw Malformed(location, 0, $"{body.Length} bytes is shorter than the 2-byte prefix");
        }

        if (body[0] != Version)
        {
            throw Malformed(location, 0, $"version {body[0]} is not {Version}");
        }

        var kind = (TimeSeriesOperationKind)body[1];
        position = 2;
        TimeSeriesOperation operation;
        switch (kind)
        {
            case TimeSeriesOperationKind.Append:
                operation = new TimeSeriesOperation { Kind = kind };
                ulong groups = ReadVarInt(body, ref position, location);
                if (groups is 0 or > TimeSeriesLimits.BatchReadingsMax)
                {
                    throw Malformed(location, position, $"group count {groups} is outside 1..{TimeSeriesLimits.BatchReadingsMax}");
                }

                long total = 0;
                for (ulong g = 0; g < groups; g++)
                {
                    string series = ReadName(body, ref position, location, names);
                    ulong count = ReadVarInt(body, ref position, location);
                    total += (long)Math.Min(count, (ulong)int.MaxValue);
                    if (count == 0 || total > TimeSeriesLimits.BatchReadingsMax)
                    {
                        throw Malformed(location, position, $"reading count {count} (batch total {total}) is outside 1..{TimeSeriesLimits.BatchReadingsMax}");
                    }

                    // Each reading takes at least 9 bytes: refuse counts the body cannot hold before allocating.
                    if ((long)count * 9 > body.Length - position)
                    {
                        throw Malformed(location, position, $"{count} readings cannot fit in the {body.Length - position} bytes left");
                    }

                    var readings = new TimeSeriesReading[count];
                    long timestamp = 0;
                    for (int i = 0; i < readings.Length; i++)
                    {
                        long delta = ZigZagDecode(ReadVarInt(body, ref position, location));
                        long next = unchecked(timestamp + delta);
                        // Both stay within ±2^62, so a valid delta never overflows; an overflow shows as a sign flip.
                        if (next is < TimeSeriesLimits.TimestampMin or > TimeSeriesLimits.TimestampMax || (delta > 0 && next < timestamp) || (delta < 0 && next > timestamp))
                        {
                            throw Malformed(location, position, $"timestamp {next} of reading {i} in series '{series}' is outside the allowed range");
                        }

                        timestamp = next;
                        if (body.Length - position < 8)
                        {
                            throw Malformed(location, position, $"reading {i} of series '{series}' has no value");
                        }

                        readings[i] = new TimeSeriesReading(timestamp, BinaryPrimitives.ReadDoubleLittleEndian(body[position..]));
                        position += 8;
                    }

                    operation.Groups.Add((series, readings));
                }

                break;
            case TimeSeriesOperationKind.DropBefore:
                string dropSeries = ReadName(body, ref position, location);
                if (body.Length - position < 8)
                {
                    throw Malformed(location, position, "the retention cutoff is missing");
                }

                operation = new TimeSeriesOperation { Kind = kind, Series = dropSeries, Cutoff = BinaryPrimitives.ReadInt64LittleEndian(body[position..]) };
                position += 8;
                break;
            case TimeSeriesOperationKind.DeleteSeries:
                operation = new TimeSeriesOperation { Kind = kind, Series = ReadName(body, ref position, location) };
                break;
            default:
                throw Malformed(location, 1, $"unknown operation kind {(byte)kind}");
        }

        if (position != body.Length)
        {
            throw Malformed(location, position, $"{body.Length - position} bytes trail the operation");
        }

        return operation;
    }

    private static int WriteGroup(Span<byte> destination, string series, ReadOnlySpan<TimeSeriesReading> readings)
    {
        int position = WriteName(destination, series);
        position += VarInt.Write(destination[position..], (ulong)readings.Length);
        long previous = 0;
        foreach (TimeSeriesReading reading in readings)
        {
            position += VarInt.Write(destination[position..], ZigZagEncode(reading.Timestamp - previous));
            previous = reading.Timestamp;
            BinaryPrimitives.WriteDoubleLittleEndian(destination[position..], reading.Value);
            position += 8;
        }

        return position;
    }

    private static int WriteSeriesOperation(Span<byte> destination, TimeSeriesOperationKind kind, string series)
    {
        destination[0] = Version;
        destination[1] = (byte)kind;
        return 2 + WriteName(destination[2..], series);
    }

    private static int WriteName(Span<byte> destination, string series)
    {
        int length = TimeSeriesLimits.StrictUtf8.GetByteCount(series);
        int position = VarInt.Write(destination, (ulong)length);
        return position + TimeSeriesLimits.StrictUtf8.GetBytes(series, destination[position..]);
    }

    private static string ReadName(ReadOnlySpan<byte> body, ref int position, string location, ConcurrentDictionary<string, string>? names = null)
    {
        ulong length = ReadVarInt(body, ref position, location);
        if (length is 0 or > TimeSeriesLimits.SeriesNameBytesMax || (ulong)(body.Length - position) < length)
        {
            throw Malformed(location, position, $"series name length {length} is outside 1..{TimeSeriesLimits.SeriesNameBytesMax} or past the end");
        }

        if (names is not null)
        {
            // Every batch repeats its series names: look them up without allocating a string.
            Span<char> chars = stackalloc char[TimeSeriesLimits.SeriesNameBytesMax];
            if (System.Text.Unicode.Utf8.ToUtf16(body.Slice(position, (int)length), chars, out _, out int charCount, replaceInvalidSequences: false) == System.Buffers.OperationStatus.Done
                && names.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars[..charCount], out string? cached))
            {
                position += (int)length;
                return cached;
            }
        }

        string name;
        try
        {
            name = TimeSeriesLimits.StrictUtf8.GetString(body.Slice(position, (int)length));
        }
        catch (ArgumentException e)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.TimeSeriesBatchMalformed, $"{location} offset {position}", "the series name is not valid UTF-8", e);
        }

        try
        {
            TimeSeriesLimits.ValidateSeriesName(name);
        }
        catch (EdgeException e)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.TimeSeriesBatchMalformed, $"{location} offset {position}", e.Message, e);
        }

        position += (int)length;
        if (names is not null)
        {
            if (names.Count >= NameCacheCountMax)
            {
                names.Clear(); // bounded: a workload with endless distinct names just stops benefiting
            }

            names.TryAdd(name, name);
        }

        return name;
    }

    /// <summary>Most names a decode cache keeps.</summary>
    public const int NameCacheCountMax = 65_536;

    private static ulong ReadVarInt(ReadOnlySpan<byte> body, ref int position, string location)
    {
        if (!VarInt.TryRead(body[position..], out ulong value, out int read))
        {
            throw Malformed(location, position, "a variable-length integer is truncated or longer than 64 bits");
        }

        position += read;
        return value;
    }

    private static ulong ZigZagEncode(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long ZigZagDecode(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    private static EdgeCorruptionException Malformed(string location, int offset, string message) =>
        new(EdgeErrorCode.TimeSeriesBatchMalformed, $"{location} offset {offset}", message);
}
