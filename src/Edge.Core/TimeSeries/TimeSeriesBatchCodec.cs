using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using CortexEdge.Core.Binary;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// The body of a <see cref="Wal.WalRecordKind.TimeSeriesBatch"/> record (after the operation
/// header). Version 2, little endian:
/// <code>
/// u8 version (2)   u8 kind (1 append, 2 drop-before, 3 delete-series)
/// append:       varint groups; per group: varint name bytes, UTF-8 name, varint count, u8 encoding, then
///   encoding 0 (varint):  per reading: zigzag varint (timestamp − previous timestamp, the first from 0), f64 value
///   encoding 1 (Gorilla XOR), 2 + d (Gorilla decimal deltas, d = 0..9 digits), 12 + d (Gorilla decimal deltas of deltas):
///                         zigzag varint first timestamp, f64 first value, varint payload bytes,
///                         <see cref="GorillaEncoder"/> payload of the readings after the first
/// drop-before:  varint name bytes, UTF-8 name, i64 cutoff
/// delete:       varint name bytes, UTF-8 name
/// </code>
/// A group whose timestamps strictly increase (what ingest produces) is written with the chunk
/// codec's Gorilla scheme when that is smaller, which takes a few bits per regular reading instead
/// of 9+ bytes: the WAL is most of the flash a gateway writes. Other groups (any order, duplicates)
/// use the varint encoding. Version 1 bodies (the varint encoding without the encoding byte) still
/// decode, so older logs recover and older peers' ops are accepted.
/// Decoding checks every length, name, count (total at most <see cref="TimeSeriesLimits.BatchReadingsMax"/>),
/// timestamp range, the Gorilla payload and that nothing trails: a failure is <see cref="EdgeCorruptionException"/> with
/// <see cref="EdgeErrorCode.TimeSeriesBatchMalformed"/>.
/// </summary>
internal static class TimeSeriesBatchCodec
{
    public const byte Version = 2;

    /// <summary>The first version: append groups in the varint encoding, without an encoding byte.</summary>
    public const byte Version1 = 1;

    private const byte EncodingVarint = 0;
    private const byte EncodingGorillaXor = 1;
    private const byte EncodingGorillaDecimal = 2; // + decimal digits
    private const byte EncodingGorillaDecimalDeltaOfDelta = EncodingGorillaDecimal + DecimalScale.DigitsMax + 1; // + decimal digits
    private const byte EncodingLast = EncodingGorillaDecimalDeltaOfDelta + DecimalScale.DigitsMax;

    /// <summary>Bytes a group may take besides its name and readings: count, encoding, first timestamp and value, payload length.</summary>
    private const int GroupOverheadBytesMax = VarInt.UInt64BytesMax + 1 + VarInt.UInt64BytesMax + 8 + VarInt.UInt64BytesMax;

    /// <summary>Bytes that always suffice for an append of these groups.</summary>
    public static int MaxAppendBytes(int groupCount, int readingCount) =>
        2 + VarInt.UInt64BytesMax + (groupCount * (VarInt.UInt64BytesMax + TimeSeriesLimits.SeriesNameBytesMax + GroupOverheadBytesMax))
        + (readingCount * Math.Max(VarInt.UInt64BytesMax + 8, GorillaEncoder.ReadingBytesMax));

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

        byte version = body[0];
        if (version is not (Version1 or Version))
        {
            throw Malformed(location, 0, $"version {version} is not {Version1} or {Version}");
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

                    byte encoding = EncodingVarint;
                    if (version != Version1)
                    {
                        if (position >= body.Length)
                        {
                            throw Malformed(location, position, $"series '{series}' has no encoding byte");
                        }

                        encoding = body[position++];
                    }

                    TimeSeriesReading[] readings = encoding == EncodingVarint
                        ? ReadVarintReadings(body, ref position, location, series, count)
                        : ReadGorillaReadings(body, ref position, location, series, count, encoding);
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
        int varintBytes = VarintReadingsBytes(readings);
        if (readings.Length > 1 && IsStrictlyIncreasing(readings))
        {
            int gorilla = WriteGorillaReadings(destination[position..], readings, varintBytes);
            if (gorilla > 0)
            {
                return position + gorilla;
            }
        }

        destination[position++] = EncodingVarint;
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

    /// <summary>Bytes of the varint encoding of <paramref name="readings"/> (after the encoding byte).</summary>
    private static int VarintReadingsBytes(ReadOnlySpan<TimeSeriesReading> readings)
    {
        int bytes = 0;
        long previous = 0;
        foreach (TimeSeriesReading reading in readings)
        {
            bytes += VarInt.SizeOf(ZigZagEncode(reading.Timestamp - previous)) + 8;
            previous = reading.Timestamp;
        }

        return bytes;
    }

    private static bool IsStrictlyIncreasing(ReadOnlySpan<TimeSeriesReading> readings)
    {
        for (int i = 1; i < readings.Length; i++)
        {
            if (readings[i].Timestamp <= readings[i - 1].Timestamp)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Writes the Gorilla encoding (encoding byte included) when it is smaller than
    /// <paramref name="varintBytes"/>; returns its length, or 0 when the varint encoding is to be used.
    /// The value coding is chosen as for chunks (<see cref="ChunkCodec.EncodeSmallestPayload"/>).
    /// </summary>
    private static int WriteGorillaReadings(Span<byte> destination, ReadOnlySpan<TimeSeriesReading> readings, int varintBytes)
    {
        long[] timestamps = ArrayPool<long>.Shared.Rent(readings.Length);
        double[] values = ArrayPool<double>.Shared.Rent(readings.Length);
        try
        {
            for (int i = 0; i < readings.Length; i++)
            {
                timestamps[i] = readings[i].Timestamp;
                values[i] = readings[i].Value;
            }

            int position = 1; // the encoding byte, once the coding is known
            position += VarInt.Write(destination[position..], ZigZagEncode(readings[0].Timestamp));
            BinaryPrimitives.WriteDoubleLittleEndian(destination[position..], readings[0].Value);
            position += 8;

            // The payload length comes before the payload: encode after a gap sized for the largest
            // length, then close the gap.
            int gap = VarInt.SizeOf((ulong)GorillaEncoder.MaxPayloadBytes(readings.Length));
            Span<byte> payload = destination[(position + gap)..];
            int payloadBytes = ChunkCodec.EncodeSmallestPayload(timestamps.AsSpan(0, readings.Length), values.AsSpan(0, readings.Length), payload, out int digits, out bool deltaOfDelta);
            destination[0] = digits < 0 ? EncodingGorillaXor
                : (byte)((deltaOfDelta ? EncodingGorillaDecimalDeltaOfDelta : EncodingGorillaDecimal) + digits);
            int lengthBytes = VarInt.Write(destination[position..], (ulong)payloadBytes);
            if (lengthBytes != gap)
            {
                payload[..payloadBytes].CopyTo(destination[(position + lengthBytes)..]);
            }

            int length = position + lengthBytes + payloadBytes;
            return length < 1 + varintBytes ? length : 0;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(timestamps);
            ArrayPool<double>.Shared.Return(values);
        }
    }

    /// <summary>
    /// Moves <paramref name="position"/> past one append group's readings (after its count) without
    /// decoding them, for readers that want the series names only. False when the body is too short
    /// or the encoding unknown (nothing is checked beyond what skipping needs).
    /// </summary>
    public static bool TrySkipReadings(ReadOnlySpan<byte> body, ref int position, ulong count)
    {
        byte encoding = EncodingVarint;
        if (body[0] != Version1)
        {
            if (position >= body.Length)
            {
                return false;
            }

            encoding = body[position++];
        }

        if (encoding == EncodingVarint)
        {
            // Each reading: a zigzag varint timestamp delta, then an 8-byte value.
            for (ulong i = 0; i < count; i++)
            {
                if (!VarInt.TryRead(body[position..], out _, out int read) || body.Length - position - read < 8)
                {
                    return false;
                }

                position += read + 8;
            }

            return true;
        }

        // Gorilla: first timestamp, first value, payload length, payload.
        if (encoding > EncodingLast || !VarInt.TryRead(body[position..], out _, out int timestampBytes) || body.Length - position - timestampBytes < 8)
        {
            return false;
        }

        position += timestampBytes + 8;
        if (!VarInt.TryRead(body[position..], out ulong payloadBytes, out int lengthBytes) || payloadBytes > (ulong)(body.Length - position - lengthBytes))
        {
            return false;
        }

        position += lengthBytes + (int)payloadBytes;
        return true;
    }

    private static TimeSeriesReading[] ReadVarintReadings(ReadOnlySpan<byte> body, ref int position, string location, string series, ulong count)
    {
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

        return readings;
    }

    private static TimeSeriesReading[] ReadGorillaReadings(ReadOnlySpan<byte> body, ref int position, string location, string series, ulong count, byte encoding)
    {
        bool deltaOfDelta = encoding >= EncodingGorillaDecimalDeltaOfDelta;
        int decimalDigits = encoding == EncodingGorillaXor ? -1
            : encoding - (deltaOfDelta ? EncodingGorillaDecimalDeltaOfDelta : EncodingGorillaDecimal);
        if (encoding > EncodingLast)
        {
            throw Malformed(location, position - 1, $"unknown encoding {encoding} of series '{series}'");
        }

        if (count < 2)
        {
            throw Malformed(location, position, $"series '{series}' has a Gorilla encoding for {count} reading");
        }

        long first = ZigZagDecode(ReadVarInt(body, ref position, location));
        if (first is < TimeSeriesLimits.TimestampMin or > TimeSeriesLimits.TimestampMax)
        {
            throw Malformed(location, position, $"first timestamp {first} of series '{series}' is outside the allowed range");
        }

        if (body.Length - position < 8)
        {
            throw Malformed(location, position, $"series '{series}' has no first value");
        }

        double firstValue = BinaryPrimitives.ReadDoubleLittleEndian(body[position..]);
        position += 8;
        ulong payloadBytes = ReadVarInt(body, ref position, location);
        // Each reading after the first takes at least 2 bits: refuse counts the payload cannot hold before allocating.
        if (payloadBytes > (ulong)(body.Length - position) || (count - 1) > payloadBytes * 4)
        {
            throw Malformed(location, position, $"a Gorilla payload of {payloadBytes} bytes for {count} readings of series '{series}' does not fit the {body.Length - position} bytes left");
        }

        ReadOnlySpan<byte> payload = body.Slice(position, (int)payloadBytes);
        var readings = new TimeSeriesReading[count];
        readings[0] = new TimeSeriesReading(first, firstValue);
        try
        {
            var decoder = new GorillaDecoder(payload, first, firstValue, $"{location} offset {position}", decimalDigits, deltaOfDelta);
            for (int i = 1; i < readings.Length; i++)
            {
                decoder.ReadNext(out long timestamp, out double value);
                readings[i] = new TimeSeriesReading(timestamp, value);
            }

            decoder.EnsureComplete();
        }
        catch (EdgeCorruptionException e) when (e.Code == EdgeErrorCode.ChunkMalformed)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.TimeSeriesBatchMalformed, $"{location} offset {position}", $"series '{series}': {e.Message}", e);
        }

        position += (int)payloadBytes;
        return readings;
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
