using CortexEdge.Core.TimeSeries;

namespace CortexEdge.Core.Tests.TimeSeries;

/// <summary>Seeded inputs for the time-series tests: seed from CE_TEST_SEED or fresh, iteration counts from env.</summary>
internal static class SeriesGenerator
{
    public static int Seed()
    {
        string? text = Environment.GetEnvironmentVariable("CE_TEST_SEED");
        return int.TryParse(text, out int seed) ? seed : Random.Shared.Next();
    }

    public static int Iterations(string variable, int defaultCount) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out int count) && count > 0 ? count : defaultCount;

    public static double RandomValue(Random random) => random.Next(12) switch
    {
        0 => double.NaN,
        1 => BitConverter.UInt64BitsToDouble(0x7FF0_0000_0000_0001UL | ((ulong)random.NextInt64() & 0x000F_FFFF_FFFF_FFFFUL)), // NaN with payload
        2 => random.Next(2) == 0 ? double.PositiveInfinity : double.NegativeInfinity,
        3 => random.Next(2) == 0 ? 0.0 : -0.0,
        4 => BitConverter.UInt64BitsToDouble((ulong)random.NextInt64(1, 0x000F_FFFF_FFFF_FFFF)), // denormal
        5 => BitConverter.Int64BitsToDouble(random.NextInt64()), // any bits
        6 => double.MaxValue * (random.Next(2) == 0 ? 1 : -1),
        _ => Math.Round(20 + (random.NextDouble() * 5), random.Next(0, 4)),
    };

    /// <summary>Strictly increasing timestamps with adversarial deltas (regular, jitter, huge, delta-of-delta sign flips).</summary>
    public static long[] Timestamps(Random random, int count)
    {
        var result = new long[count];
        long timestamp = random.Next(3) switch
        {
            0 => TimeSeriesLimits.TimestampMin + random.Next(1000),
            1 => 1_700_000_000_000 + random.Next(1_000_000),
            _ => random.NextInt64(-1_000_000_000_000, 1_000_000_000_000),
        };
        int mode = random.Next(6);
        double rate = random.Next(1, 40) * 0.05;
        for (int i = 0; i < count; i++)
        {
            result[i] = timestamp;
            long delta = mode switch
            {
                0 => 1000,
                1 => 1000 + random.Next(-30, 31),
                2 => random.Next(10) == 0 ? random.NextInt64(1, 1L << 40) : random.Next(1, 100_000),
                3 => i % 2 == 0 ? 1 : 5000, // alternating: delta-of-delta flips sign every step
                _ => random.Next(5) switch { 0 => 1, 1 => 86_400_000L * random.Next(1, 30), 2 => random.Next(1, 3000), 3 => int.MaxValue + 1L, _ => 60_000 },
            };
            long remaining = TimeSeriesLimits.TimestampMax - timestamp;
            timestamp += Math.Max(1, Math.Min(delta, remaining / Math.Max(1, count - i)));
        }

        return result;
    }

    public static double[] Values(Random random, int count)
    {
        var result = new double[count];
        int mode = random.Next(6);
        double rate = random.Next(1, 40) * 0.05;
        double level = 21.5;
        for (int i = 0; i < count; i++)
        {
            result[i] = mode switch
            {
                0 => 42.0, // constant
                1 => i % 2 == 0 ? 1.0 : -1.0e300, // alternating
                2 => RandomValue(random),
                3 => level += Math.Round((random.NextDouble() - 0.5) * 0.2, 2), // smooth sensor
                5 => Math.Round(1000 + (i * rate) + (i / 25 * 0.35), 2), // a meter at a steady rate that steps now and then
                _ => random.Next(2) == 0 ? RandomValue(random) : level,
            };
        }

        return result;
    }

    public static byte[] EncodeChunk(long seriesId, long[] timestamps, double[] values)
    {
        byte[] buffer = new byte[ChunkCodec.MaxEncodedBytes(timestamps.Length)];
        int length = ChunkCodec.Encode(seriesId, timestamps, values, buffer);
        return buffer.AsSpan(0, length).ToArray();
    }
}
