using System.Buffers.Binary;
using CortexEdge.Core.TimeSeries;

namespace CortexEdge.Core.Tests.TimeSeries;

public sealed class ChunkCodecTests
{
    [Fact]
    public void EncodeDecode_RandomSeries_RoundTripsBitExact()
    {
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        int iterations = SeriesGenerator.Iterations("CE_TS_ROUNDTRIPS", 2000);
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            int count = random.Next(8) == 0 ? random.Next(1, 5000) : random.Next(1, 200);
            long[] timestamps = SeriesGenerator.Timestamps(random, count);
            double[] values = SeriesGenerator.Values(random, count);
            long seriesId = random.NextInt64();
            byte[] chunk = SeriesGenerator.EncodeChunk(seriesId, timestamps, values);

            long[] decodedTimestamps = new long[count];
            double[] decodedValues = new double[count];
            ChunkHeader header = ChunkCodec.Decode(chunk, decodedTimestamps, decodedValues);
            Assert.True(count == header.Count, $"seed {seed} iteration {iteration}: count {header.Count}, expected {count}");
            Assert.Equal(seriesId, header.SeriesId);
            for (int i = 0; i < count; i++)
            {
                Assert.True(timestamps[i] == decodedTimestamps[i], $"seed {seed} iteration {iteration} index {i}: timestamp {decodedTimestamps[i]}, expected {timestamps[i]}");
                Assert.True(
                    BitConverter.DoubleToUInt64Bits(values[i]) == BitConverter.DoubleToUInt64Bits(decodedValues[i]),
                    $"seed {seed} iteration {iteration} index {i}: value bits {BitConverter.DoubleToUInt64Bits(decodedValues[i]):X16}, expected {BitConverter.DoubleToUInt64Bits(values[i]):X16}");
            }

            // The streaming reader sees the same readings.
            var reader = new ChunkReader(chunk);
            int index = 0;
            while (reader.TryRead(out TimeSeriesReading reading))
            {
                Assert.True(reading.BitEquals(new TimeSeriesReading(timestamps[index], values[index])), $"seed {seed} iteration {iteration} reader index {index}");
                index++;
            }

            Assert.Equal(count, index);
        }
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(-0.0)]
    [InlineData(double.Epsilon)]
    [InlineData(double.MaxValue)]
    public void EncodeDecode_SpecialValues_KeepBits(double special)
    {
        long[] timestamps = [0, 1, 2, 3, 4, 5];
        double[] values = [special, 1.5, special, special, -special, BitConverter.UInt64BitsToDouble(0xFFF8_DEAD_BEEF_0001UL)];
        byte[] chunk = SeriesGenerator.EncodeChunk(1, timestamps, values);
        var decodedValues = new double[6];
        ChunkCodec.Decode(chunk, new long[6], decodedValues);
        Assert.Equal(values.Select(BitConverter.DoubleToUInt64Bits), decodedValues.Select(BitConverter.DoubleToUInt64Bits));
    }

    [Fact]
    public void Encode_Header_CarriesStatisticsWithoutNaN()
    {
        long[] timestamps = [100, 200, 300, 400, 500];
        double[] values = [3.0, double.NaN, -2.0, 10.0, double.NaN];
        ChunkHeader header = ChunkHeader.Read(SeriesGenerator.EncodeChunk(9, timestamps, values));
        Assert.Equal(5, header.Count);
        Assert.Equal(2, header.NanCount);
        Assert.Equal(-2.0, header.Min);
        Assert.Equal(10.0, header.Max);
        Assert.Equal(11.0, header.Sum);
        Assert.Equal(100, header.FirstTimestamp);
        Assert.Equal(500, header.LastTimestamp);
        Assert.Equal(3.0, header.FirstValue);
        Assert.True(double.IsNaN(header.LastValue));
    }

    [Fact]
    public void Encode_AllNaN_MinMaxAreNaNAndSumZero()
    {
        ChunkHeader header = ChunkHeader.Read(SeriesGenerator.EncodeChunk(1, [1, 2], [double.NaN, double.NaN]));
        Assert.True(double.IsNaN(header.Min));
        Assert.True(double.IsNaN(header.Max));
        Assert.Equal(0.0, header.Sum);
    }

    [Fact]
    public void Encode_RegularSensorSeries_TakesAboutTwoBytesPerReading()
    {
        // 1 s interval, temperature with 0.01 resolution noise: the shape the format is built for.
        var random = new Random(7);
        const int count = 4096;
        long[] timestamps = new long[count];
        double[] values = new double[count];
        double level = 21.0;
        for (int i = 0; i < count; i++)
        {
            timestamps[i] = 1_700_000_000_000 + (i * 1000L);
            level += random.Next(-1, 2) * 0.01;
            values[i] = Math.Round(level, 2);
        }

        byte[] chunk = SeriesGenerator.EncodeChunk(1, timestamps, values);
        double bytesPerReading = chunk.Length / (double)count;
        // Raw would be 16 bytes and XOR of decimal fractions about 4.4; the decimal encoding must kick in.
        Assert.Equal(2, ChunkHeader.Read(chunk).DecimalDigits);
        Assert.True(bytesPerReading < 1.0, $"{bytesPerReading:0.00} bytes per reading");
    }

    [Fact]
    public void Encode_SteadyRateDecimals_StoresDeltasOfDeltas_RoundTripBitExact()
    {
        // An energy meter read every 10 s: +0.125 kWh per reading while the load holds, the load
        // changing every 300 readings. Its deltas repeat, so their changes take one bit.
        const int count = 4096;
        long[] timestamps = new long[count];
        double[] values = new double[count];
        long meter = 1_234_567_000; // in 1/1000 kWh
        for (int i = 0; i < count; i++)
        {
            timestamps[i] = 1_700_000_000_000 + (i * 10_000L);
            meter += 125 + (i / 300 * 5);
            values[i] = meter / 1000.0;
        }

        byte[] chunk = SeriesGenerator.EncodeChunk(1, timestamps, values);
        ChunkHeader header = ChunkHeader.Read(chunk);
        Assert.Equal(3, header.DecimalDigits);
        Assert.True(header.DecimalDeltaOfDelta);
        // Deltas would take 11 bits per reading; their changes about one.
        Assert.True(header.PayloadBytes < count / 3, $"{header.PayloadBytes} payload bytes for {count} readings");
        long[] decodedTimestamps = new long[count];
        double[] decodedValues = new double[count];
        ChunkCodec.Decode(chunk, decodedTimestamps, decodedValues);
        Assert.Equal(timestamps, decodedTimestamps);
        Assert.Equal(values.Select(BitConverter.DoubleToUInt64Bits), decodedValues.Select(BitConverter.DoubleToUInt64Bits));
    }

    [Fact]
    public void Read_ValueEncodingBeyondDeltasOfDeltas_IsMalformed()
    {
        byte[] chunk = SeriesGenerator.EncodeChunk(1, [1, 2, 3], [1.5, 1.75, 2.0]);
        chunk[1] = 3;
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(80), ChunkHeader.ComputeCrc(chunk));
        var error = Assert.Throws<EdgeCorruptionException>(() => ChunkHeader.Read(chunk));
        Assert.Equal(EdgeErrorCode.ChunkMalformed, error.Code);
    }

    [Fact]
    public void Encode_BinaryFractionValues_KeepsXorWhenSmaller()
    {
        // 1/16 °C steps (DS18B20-style): exact binary fractions XOR into short windows.
        long[] timestamps = Enumerable.Range(0, 512).Select(i => i * 750L).ToArray();
        double[] values = Enumerable.Range(0, 512).Select(i => 20.0 + ((i * 7 % 13) * 0.0625)).ToArray();
        ChunkHeader header = ChunkHeader.Read(SeriesGenerator.EncodeChunk(1, timestamps, values));
        long[] decodedTimestamps = new long[512];
        double[] decodedValues = new double[512];
        ChunkCodec.Decode(SeriesGenerator.EncodeChunk(1, timestamps, values), decodedTimestamps, decodedValues);
        Assert.Equal(values, decodedValues);
        Assert.Equal(timestamps, decodedTimestamps);
        Assert.True(header.PayloadBytes < 512 * 3, $"{header.PayloadBytes} payload bytes, encoding digits {header.DecimalDigits}");
    }

    [Fact]
    public void Encode_NegativeZeroAmongDecimals_FallsBackToXorBitExact()
    {
        double[] values = [1.5, -0.0, 2.25, 0.0];
        var decoded = new double[4];
        byte[] chunk = SeriesGenerator.EncodeChunk(1, [1, 2, 3, 4], values);
        ChunkCodec.Decode(chunk, new long[4], decoded);
        Assert.Equal(-1, ChunkHeader.Read(chunk).DecimalDigits);
        Assert.Equal(values.Select(BitConverter.DoubleToUInt64Bits), decoded.Select(BitConverter.DoubleToUInt64Bits));
    }

    [Fact]
    public void Encode_TimestampsNotIncreasing_Throws()
    {
        byte[] buffer = new byte[ChunkCodec.MaxEncodedBytes(3)];
        var error = Assert.Throws<ArgumentException>(() => ChunkCodec.Encode(1, [1, 3, 3], [0, 0, 0], buffer));
        Assert.Contains("index 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_TimestampOutOfRange_ThrowsTyped()
    {
        byte[] buffer = new byte[ChunkCodec.MaxEncodedBytes(2)];
        var error = Assert.Throws<EdgeException>(() => ChunkCodec.Encode(1, [0, long.MaxValue], [0, 0], buffer));
        Assert.Equal(EdgeErrorCode.TimeSeriesTimestampOutOfRange, error.Code);
    }

    [Fact]
    public void Encode_ExtremeTimestampRange_RoundTrips()
    {
        long[] timestamps = [TimeSeriesLimits.TimestampMin, 0, TimeSeriesLimits.TimestampMax];
        double[] values = [1, 2, 3];
        var decoded = new long[3];
        ChunkCodec.Decode(SeriesGenerator.EncodeChunk(1, timestamps, values), decoded, new double[3]);
        Assert.Equal(timestamps, decoded);
    }

    [Fact]
    public void Decode_CrcMismatch_NamesLocation()
    {
        byte[] chunk = SeriesGenerator.EncodeChunk(1, [1, 2, 3], [1, 2, 3]);
        chunk[^1] ^= 0x10;
        var error = Assert.Throws<EdgeCorruptionException>(() => ChunkCodec.Decode(chunk, new long[3], new double[3], "series 1 chunk 5"));
        Assert.Equal(EdgeErrorCode.ChunkMalformed, error.Code);
        Assert.Contains("series 1 chunk 5", error.Location, StringComparison.Ordinal);
        Assert.Contains("CRC", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_HeaderStatisticsDisagreeWithPayload_Throws()
    {
        byte[] chunk = SeriesGenerator.EncodeChunk(1, [1, 2, 3], [1, 2, 3]);
        BinaryPrimitives.WriteDoubleLittleEndian(chunk.AsSpan(64), 99.0); // max
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(80), ChunkHeader.ComputeCrc(chunk));
        var error = Assert.Throws<EdgeCorruptionException>(() => ChunkCodec.Decode(chunk, new long[3], new double[3]));
        Assert.Contains("min, max or sum", error.Message, StringComparison.Ordinal);
    }
}
