using System.Buffers;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Encodes and decodes whole chunks: a <see cref="ChunkHeader"/> followed by the Gorilla payload
/// (<see cref="GorillaEncoder"/>). Pure functions over spans; thread-safe; allocates nothing.
/// </summary>
public static class ChunkCodec
{
    /// <summary>Bytes that always suffice to encode <paramref name="count"/> readings (header included).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is outside 1..<see cref="TimeSeriesLimits.ChunkReadingsMax"/>.</exception>
    public static int MaxEncodedBytes(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, TimeSeriesLimits.ChunkReadingsMax);
        return ChunkHeader.Size + GorillaEncoder.MaxPayloadBytes(count);
    }

    /// <summary>
    /// Encodes readings sorted by strictly increasing timestamp into <paramref name="destination"/>.
    /// </summary>
    /// <param name="seriesId">The series id written into the header.</param>
    /// <param name="timestamps">Timestamps in ms, strictly increasing, within the allowed range.</param>
    /// <param name="values">Values, one per timestamp.</param>
    /// <param name="destination">At least <see cref="MaxEncodedBytes"/> bytes is always enough.</param>
    /// <returns>The chunk length in bytes.</returns>
    /// <exception cref="ArgumentException">Lengths differ, the count is outside 1..<see cref="TimeSeriesLimits.ChunkReadingsMax"/>,
    /// timestamps do not strictly increase or leave the range, or the destination is too small.</exception>
    public static int Encode(long seriesId, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, Span<byte> destination)
    {
        if (timestamps.Length != values.Length)
        {
            throw new ArgumentException($"{timestamps.Length} timestamps but {values.Length} values.", nameof(values));
        }

        int count = timestamps.Length;
        if (count is 0 or > TimeSeriesLimits.ChunkReadingsMax)
        {
            throw new ArgumentException($"A chunk holds 1..{TimeSeriesLimits.ChunkReadingsMax} readings, not {count}.", nameof(timestamps));
        }

        if (destination.Length < ChunkHeader.Size)
        {
            throw new ArgumentException($"The destination needs at least {ChunkHeader.Size} bytes for the header.", nameof(destination));
        }

        TimeSeriesLimits.ValidateTimestamp(timestamps[0]);
        var statistics = ReadingStatistics.Empty;
        statistics.Add(timestamps[0], values[0]);
        for (int i = 1; i < count; i++)
        {
            long timestamp = timestamps[i];
            if (timestamp <= timestamps[i - 1])
            {
                throw new ArgumentException($"Timestamps must strictly increase: index {i} has {timestamp} after {timestamps[i - 1]}.", nameof(timestamps));
            }

            TimeSeriesLimits.ValidateTimestamp(timestamp);
            statistics.Add(timestamp, values[i]);
        }

        int payloadBytes = EncodeSmallestPayload(timestamps, values, destination[ChunkHeader.Size..], out int decimalDigits, out bool deltaOfDelta);
        var header = new ChunkHeader
        {
            DecimalDigits = decimalDigits,
            DecimalDeltaOfDelta = deltaOfDelta,
            SeriesId = seriesId,
            Count = count,
            NanCount = statistics.NanCount,
            PayloadBytes = payloadBytes,
            FirstTimestamp = statistics.FirstTimestamp,
            LastTimestamp = statistics.LastTimestamp,
            FirstValue = statistics.First,
            LastValue = statistics.Last,
            Min = statistics.Min,
            Max = statistics.Max,
            Sum = statistics.Sum,
        };
        int length = ChunkHeader.Size + payloadBytes;
        header.WriteTo(destination);
        header = header with { Crc = ChunkHeader.ComputeCrc(destination[..length]) };
        header.WriteTo(destination);
        return length;
    }

    /// <summary>
    /// Decodes a whole chunk into caller buffers and checks everything: header, CRC, that the
    /// payload holds exactly <see cref="ChunkHeader.Count"/> strictly increasing readings ending at
    /// the header's last timestamp and value, and that the header's statistics match the readings.
    /// </summary>
    /// <param name="chunk">The chunk bytes exactly.</param>
    /// <param name="timestamps">Receives the timestamps; at least <see cref="ChunkHeader.Count"/> long.</param>
    /// <param name="values">Receives the values; at least <see cref="ChunkHeader.Count"/> long.</param>
    /// <param name="location">Where the chunk came from, for error messages.</param>
    /// <returns>The chunk's header; its <see cref="ChunkHeader.Count"/> is the number of readings written.</returns>
    /// <exception cref="EdgeCorruptionException"><see cref="EdgeErrorCode.ChunkMalformed"/> when the chunk fails any check.</exception>
    /// <exception cref="ArgumentException">A destination span is shorter than the chunk's count.</exception>
    public static ChunkHeader Decode(ReadOnlySpan<byte> chunk, Span<long> timestamps, Span<double> values, string location = "chunk")
    {
        ChunkHeader header = ChunkHeader.Read(chunk, location);
        int count = header.Count;
        if (timestamps.Length < count || values.Length < count)
        {
            throw new ArgumentException($"The chunk holds {count} readings; the destinations hold {timestamps.Length} and {values.Length}.");
        }

        var statistics = ReadingStatistics.Empty;
        timestamps[0] = header.FirstTimestamp;
        values[0] = header.FirstValue;
        statistics.Add(header.FirstTimestamp, header.FirstValue);
        var decoder = new GorillaDecoder(chunk[ChunkHeader.Size..], header.FirstTimestamp, header.FirstValue, location, header.DecimalDigits, header.DecimalDeltaOfDelta);
        for (int i = 1; i < count; i++)
        {
            decoder.ReadNext(out timestamps[i], out values[i]);
            statistics.Add(timestamps[i], values[i]);
        }

        decoder.EnsureComplete();
        CheckAgainstHeader(header, statistics, location);
        return header;
    }

    /// <summary>
    /// Encodes the readings after the first (a Gorilla payload) with the smallest value coding, and
    /// says which it chose. Decimal sensor values compress far better as integer deltas (or deltas
    /// of deltas, whichever takes fewer bits); binary fractions and raw noise do better as XOR.
    /// Decimal first; XOR is tried too only when decimal takes more than 4 bits per reading (XOR
    /// needs at least 3 bits for any changed value, so it cannot win by much below that), and the
    /// smaller payload is kept. Used by chunks and by the WAL's time-series batches alike.
    /// </summary>
    /// <param name="timestamps">Strictly increasing timestamps; the first is not encoded (it lives in front of the payload).</param>
    /// <param name="values">Values, one per timestamp; the first is not encoded either.</param>
    /// <param name="destination">At least <see cref="GorillaEncoder.MaxPayloadBytes"/> bytes.</param>
    /// <param name="decimalDigits">-1 for XOR, else the digits every value was scaled by.</param>
    /// <param name="deltaOfDelta">With decimal digits: whether the payload stores deltas of deltas.</param>
    internal static int EncodeSmallestPayload(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, Span<byte> destination, out int decimalDigits, out bool deltaOfDelta)
    {
        int count = timestamps.Length;
        deltaOfDelta = false;
        decimalDigits = count > 1 ? DecimalScale.FindDigits(values, out deltaOfDelta) : -1;
        int payloadBytes = EncodePayload(timestamps, values, destination, decimalDigits, deltaOfDelta);
        if (decimalDigits < 0 || payloadBytes * 2L <= count)
        {
            return payloadBytes;
        }

        byte[] scratch = ArrayPool<byte>.Shared.Rent(GorillaEncoder.MaxPayloadBytes(count));
        try
        {
            int xorBytes = EncodePayload(timestamps, values, scratch, -1, false);
            if (xorBytes < payloadBytes)
            {
                scratch.AsSpan(0, xorBytes).CopyTo(destination);
                payloadBytes = xorBytes;
                decimalDigits = -1;
                deltaOfDelta = false;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }

        return payloadBytes;
    }

    private static int EncodePayload(ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values, Span<byte> destination, int decimalDigits, bool deltaOfDelta)
    {
        var encoder = new GorillaEncoder(destination, timestamps[0], values[0], decimalDigits, deltaOfDelta);
        for (int i = 1; i < timestamps.Length; i++)
        {
            encoder.Append(timestamps[i], values[i]);
        }

        return encoder.Complete();
    }

    internal static void CheckAgainstHeader(in ChunkHeader header, in ReadingStatistics statistics, string location)
    {
        if (statistics.LastTimestamp != header.LastTimestamp)
        {
            throw ChunkHeader.Malformed(location, 32, $"the last decoded timestamp {statistics.LastTimestamp} differs from the header's {header.LastTimestamp}");
        }

        if (!SameBits(statistics.Last, header.LastValue))
        {
            throw ChunkHeader.Malformed(location, 48, "the last decoded value differs from the header's");
        }

        if (statistics.NanCount != header.NanCount)
        {
            throw ChunkHeader.Malformed(location, 8, $"{statistics.NanCount} NaN values decoded, header says {header.NanCount}");
        }

        if (!SameBits(statistics.Min, header.Min) || !SameBits(statistics.Max, header.Max) || !SameBits(statistics.Sum, header.Sum))
        {
            throw ChunkHeader.Malformed(location, 56, "min, max or sum in the header differ from the decoded values");
        }
    }

    private static bool SameBits(double a, double b) => BitConverter.DoubleToUInt64Bits(a) == BitConverter.DoubleToUInt64Bits(b);
}
