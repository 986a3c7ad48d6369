using CortexEdge.Core.TimeSeries;

namespace CortexEdge.Core.Tests.TimeSeries;

public sealed class TimeSeriesBatchCodecTests
{
    private static readonly int Iterations = SeriesGenerator.Iterations("CE_FUZZ_ITERATIONS", 20000);

    [Fact]
    public void EncodeDecode_RandomAppends_RoundTripBitExact()
    {
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        for (int i = 0; i < 500; i++)
        {
            var groups = new List<(string Series, ReadOnlyMemory<TimeSeriesReading> Readings)>();
            int groupCount = random.Next(1, 5);
            for (int g = 0; g < groupCount; g++)
            {
                int count = random.Next(1, 300);
                long[] timestamps = SeriesGenerator.Timestamps(random, count);
                if (random.Next(2) == 0)
                {
                    random.Shuffle(timestamps); // any order, negative deltas included (varint encoding)
                }
                double[] values = SeriesGenerator.Values(random, count);
                groups.Add(("série/" + random.Next(1000) + "/温度", timestamps.Zip(values, (t, v) => new TimeSeriesReading(t, v)).ToArray()));
            }

            byte[] buffer = new byte[TimeSeriesBatchCodec.MaxAppendBytes(groups.Count, groups.Sum(x => x.Readings.Length))];
            int length = TimeSeriesBatchCodec.WriteAppend(buffer, groups);
            TimeSeriesOperation decoded = TimeSeriesBatchCodec.Decode(buffer.AsSpan(0, length), "test");
            Assert.Equal(TimeSeriesOperationKind.Append, decoded.Kind);
            Assert.Equal(groups.Count, decoded.Groups.Count);
            for (int g = 0; g < groups.Count; g++)
            {
                Assert.Equal(groups[g].Series, decoded.Groups[g].Series);
                TimeSeriesReading[] expected = groups[g].Readings.ToArray();
                Assert.True(expected.Length == decoded.Groups[g].Readings.Length, $"seed {seed} iteration {i} group {g}");
                for (int r = 0; r < expected.Length; r++)
                {
                    Assert.True(expected[r].BitEquals(decoded.Groups[g].Readings[r]), $"seed {seed} iteration {i} group {g} reading {r}");
                }
            }
        }
    }

    [Fact]
    public void WriteAppend_RegularSensorReadings_TakeUnderTwoBytesPerReading()
    {
        // What ingest writes: arrival-stamped readings a few ms apart, decimal values.
        var random = new Random(7);
        var readings = new TimeSeriesReading[1000];
        long timestamp = 1_700_000_000_000;
        for (int i = 0; i < readings.Length; i++)
        {
            timestamp += random.Next(1, 4);
            readings[i] = new TimeSeriesReading(timestamp, 20 + ((i % 100) * 0.01));
        }

        byte[] buffer = new byte[TimeSeriesBatchCodec.MaxAppendBytes(1, readings.Length)];
        int length = TimeSeriesBatchCodec.WriteAppend(buffer, "site/s1.temp", readings);
        Assert.True(length < 2 * readings.Length, $"{length} bytes for {readings.Length} readings");
        TimeSeriesOperation decoded = TimeSeriesBatchCodec.Decode(buffer.AsSpan(0, length), "test");
        Assert.Equal(readings, decoded.Groups[0].Readings);
    }

    [Fact]
    public void WriteAppend_SteadyRateDecimals_TakeDeltasOfDeltas_AboutTwoBitsPerReading()
    {
        // A counter stepping 0.1 per reading, one reading per ms: neither delta changes.
        var readings = new TimeSeriesReading[2000];
        for (int i = 0; i < readings.Length; i++)
        {
            readings[i] = new TimeSeriesReading(1_700_000_000_000 + i, (1000 + i) / 10.0);
        }

        byte[] buffer = new byte[TimeSeriesBatchCodec.MaxAppendBytes(1, readings.Length)];
        int length = TimeSeriesBatchCodec.WriteAppend(buffer, "meter", readings);
        // Deltas would take 6 value bits per reading, deltas of deltas 1; the timestamp 1 bit.
        Assert.True(length < (readings.Length * 2 / 8) + 64, $"{length} bytes for {readings.Length} readings");
        Assert.Equal(readings, TimeSeriesBatchCodec.Decode(buffer.AsSpan(0, length), "test").Groups[0].Readings);
    }

    [Fact]
    public void Decode_Version1Body_StillDecodes()
    {
        // Version 1 (logs and peers from before the Gorilla encoding): no encoding byte per group.
        byte[] body = [1, 1, 1, 1, (byte)'s', 2, 20, .. BitConverter.GetBytes(1.5), 2, .. BitConverter.GetBytes(-2.0)];
        TimeSeriesOperation decoded = TimeSeriesBatchCodec.Decode(body, "test");
        Assert.Equal("s", decoded.Groups[0].Series);
        Assert.Equal([new TimeSeriesReading(10, 1.5), new TimeSeriesReading(11, -2.0)], decoded.Groups[0].Readings);
    }

    [Fact]
    public void WriteAppend_UnorderedOrDuplicateTimestamps_KeepOrderAndDuplicates()
    {
        TimeSeriesReading[] readings = [new(30, 1), new(10, 2), new(10, 3), new(20, 4)];
        byte[] buffer = new byte[TimeSeriesBatchCodec.MaxAppendBytes(1, readings.Length)];
        int length = TimeSeriesBatchCodec.WriteAppend(buffer, "s", readings);
        Assert.Equal(readings, TimeSeriesBatchCodec.Decode(buffer.AsSpan(0, length), "test").Groups[0].Readings);
    }

    [Fact]
    public void EncodeDecode_RetentionAndDelete_RoundTrip()
    {
        byte[] buffer = new byte[TimeSeriesBatchCodec.MaxSeriesOperationBytes];
        int length = TimeSeriesBatchCodec.WriteDropBefore(buffer, "s", -12345);
        TimeSeriesOperation drop = TimeSeriesBatchCodec.Decode(buffer.AsSpan(0, length), "test");
        Assert.Equal((TimeSeriesOperationKind.DropBefore, "s", -12345L), (drop.Kind, drop.Series, drop.Cutoff));
        length = TimeSeriesBatchCodec.WriteDeleteSeries(buffer, "s");
        TimeSeriesOperation delete = TimeSeriesBatchCodec.Decode(buffer.AsSpan(0, length), "test");
        Assert.Equal((TimeSeriesOperationKind.DeleteSeries, "s"), (delete.Kind, delete.Series));
    }

    [Fact]
    public void Decode_RandomAndMutatedBodies_ThrowsTypedErrorOnly()
    {
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        int rejected = 0;
        for (int i = 0; i < Iterations; i++)
        {
            byte[] body;
            if (random.Next(4) == 0)
            {
                body = new byte[random.Next(0, 120)];
                random.NextBytes(body);
            }
            else
            {
                int count = random.Next(1, 20);
                // Sorted timestamps with decimal or any values: both Gorilla encodings and the varint one.
                double[] values = random.Next(2) == 0 ? SeriesGenerator.Values(random, count) : [.. Enumerable.Range(0, count).Select(_ => SeriesGenerator.RandomValue(random))];
                var readings = SeriesGenerator.Timestamps(random, count).Zip(values, (t, v) => new TimeSeriesReading(t, v)).ToArray();
                byte[] valid = new byte[TimeSeriesBatchCodec.MaxAppendBytes(1, count)];
                int length = random.Next(3) switch
                {
                    0 => TimeSeriesBatchCodec.WriteDropBefore(valid, "series", random.NextInt64()),
                    1 => TimeSeriesBatchCodec.WriteDeleteSeries(valid, "series"),
                    _ => TimeSeriesBatchCodec.WriteAppend(valid, "series", readings),
                };
                body = valid.AsSpan(0, length).ToArray();
                switch (random.Next(4))
                {
                    case 0:
                        body[random.Next(body.Length)] ^= (byte)(1 << random.Next(8));
                        break;
                    case 1:
                        body = body.AsSpan(0, random.Next(body.Length)).ToArray();
                        break;
                    case 2:
                        body = [.. body, (byte)random.Next(256)];
                        break;
                    default:
                        body[random.Next(body.Length)] = (byte)random.Next(256);
                        break;
                }
            }

            // Poisoned tail beyond the slice: an over-read would decode it or crash.
            byte[] padded = [.. body, .. Enumerable.Repeat((byte)0xFF, 32)];
            try
            {
                TimeSeriesOperation operation = TimeSeriesBatchCodec.Decode(padded.AsSpan(0, body.Length), "fuzz");
                foreach ((string _, TimeSeriesReading[] readings) in operation.Groups)
                {
                    Assert.All(readings, r => Assert.InRange(r.Timestamp, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax));
                }
            }
            catch (EdgeCorruptionException e) when (e.Code == EdgeErrorCode.TimeSeriesBatchMalformed)
            {
                rejected++;
            }
            catch (Exception e) when (e is not EdgeCorruptionException && e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {seed} iteration {i}: {e.GetType().Name} instead of TimeSeriesBatchMalformed: {e.Message}");
            }
        }

        Assert.True(rejected > Iterations / 4, $"seed {seed}: only {rejected} of {Iterations} bodies rejected");
    }
}
