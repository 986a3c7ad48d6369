using System.Buffers.Binary;
using CortexEdge.Core.TimeSeries;

namespace CortexEdge.Core.Tests.TimeSeries;

/// <summary>
/// The chunk decoder is fed damaged input: random bytes, mutations of valid chunks (with the CRC
/// left stale, and with the CRC recomputed so the payload decoder itself is exercised). It must
/// either decode consistently or throw <see cref="EdgeCorruptionException"/> with ChunkMalformed;
/// any other exception (index out of range, overflow, argument) fails the test.
/// </summary>
public sealed class ChunkDecoderFuzzTests
{
    private static readonly int Iterations = SeriesGenerator.Iterations("CE_FUZZ_ITERATIONS", 20000);

    [Fact]
    public void Decode_RandomBytes_ThrowsTypedErrorOnly()
    {
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        for (int i = 0; i < Iterations; i++)
        {
            byte[] input = new byte[random.Next(0, 300)];
            random.NextBytes(input);
            if (input.Length >= ChunkHeader.Size && random.Next(2) == 0)
            {
                // Plausible header so the checks past the version byte run too.
                input[0] = ChunkHeader.CurrentFormatVersion;
                input[1] = 0;
                input[2] = 0;
                input[3] = 0;
                BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(4), (uint)random.Next(1, 40));
                BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(8), 0);
                BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(12), (uint)(input.Length - ChunkHeader.Size));
                BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(80), ChunkHeader.ComputeCrc(input));
            }

            DecodeExpectingTypedErrorOrValidResult(input, seed, i);
        }
    }

    [Fact]
    public void Decode_MutatedValidChunks_ThrowsTypedErrorOrDecodesConsistently()
    {
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        int rejected = 0;
        for (int i = 0; i < Iterations; i++)
        {
            int count = random.Next(1, 120);
            byte[] chunk = SeriesGenerator.EncodeChunk(random.Next(), SeriesGenerator.Timestamps(random, count), SeriesGenerator.Values(random, count));
            byte[] mutated = Mutate(random, chunk);
            bool fixCrc = random.Next(2) == 0 && mutated.Length >= ChunkHeader.Size;
            if (fixCrc)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(mutated.AsSpan(80), ChunkHeader.ComputeCrc(mutated));
            }

            if (!DecodeExpectingTypedErrorOrValidResult(mutated, seed, i))
            {
                rejected++;
            }
            else if (!fixCrc && !mutated.AsSpan().SequenceEqual(chunk))
            {
                Assert.Fail($"seed {seed} iteration {i}: a mutated chunk passed with a stale CRC");
            }
        }

        Assert.True(rejected > Iterations / 2, $"seed {seed}: only {rejected} of {Iterations} mutated chunks were rejected");
    }

    /// <summary>Returns true when the input decoded; asserts a decoded chunk is self-consistent.</summary>
    private static bool DecodeExpectingTypedErrorOrValidResult(byte[] input, int seed, int iteration)
    {
        // Decode from a slice of a larger buffer whose tail is poisoned: reading it would show up as
        // readings differing between the two decoders below, and the span bound stops any over-read.
        byte[] padded = new byte[input.Length + 64];
        input.CopyTo(padded, 0);
        padded.AsSpan(input.Length).Fill(0xA5);
        ReadOnlySpan<byte> view = padded.AsSpan(0, input.Length);
        try
        {
            var timestamps = new long[TimeSeriesLimits.ChunkReadingsMax];
            var values = new double[TimeSeriesLimits.ChunkReadingsMax];
            ChunkHeader header = ChunkCodec.Decode(view, timestamps, values);
            var reader = new ChunkReader(view);
            for (int i = 0; i < header.Count; i++)
            {
                Assert.True(reader.TryRead(out TimeSeriesReading reading), $"seed {seed} iteration {iteration}: reader ended at {i} of {header.Count}");
                Assert.True(reading.BitEquals(new TimeSeriesReading(timestamps[i], values[i])), $"seed {seed} iteration {iteration}: reader and decoder differ at {i}");
                Assert.True(i == 0 || timestamps[i] > timestamps[i - 1], $"seed {seed} iteration {iteration}: decoded timestamps do not increase at {i}");
            }

            Assert.False(reader.TryRead(out _), $"seed {seed} iteration {iteration}: reader yields more than Count");
            return true;
        }
        catch (EdgeCorruptionException e) when (e.Code == EdgeErrorCode.ChunkMalformed)
        {
            Assert.False(string.IsNullOrEmpty(e.Location), $"seed {seed} iteration {iteration}: no location");
            return false;
        }
        catch (Exception e) when (e is not EdgeCorruptionException && e is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"seed {seed} iteration {iteration}: {e.GetType().Name} instead of ChunkMalformed: {e.Message}");
            return false;
        }
    }

    private static byte[] Mutate(Random random, byte[] chunk)
    {
        byte[] copy = (byte[])chunk.Clone();
        switch (random.Next(6))
        {
            case 0: // flip bits anywhere
                for (int k = random.Next(1, 4); k > 0; k--)
                {
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                }

                return copy;
            case 1 when copy.Length > ChunkHeader.Size: // flip bits in the payload only
                copy[random.Next(ChunkHeader.Size, copy.Length)] ^= (byte)(1 << random.Next(8));
                return copy;
            case 2: // truncate
                return copy.AsSpan(0, random.Next(copy.Length)).ToArray();
            case 3: // extend with garbage
                byte[] longer = new byte[copy.Length + random.Next(1, 16)];
                copy.CopyTo(longer, 0);
                random.NextBytes(longer.AsSpan(copy.Length));
                return longer;
            case 4: // overwrite a header field with an extreme value
                int offset = random.Next(4) * 4 + 4; // count, NaN count, payload bytes, series id low
                BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(offset), random.Next(2) == 0 ? uint.MaxValue : (uint)random.Next(0, 200));
                return copy;
            default: // random byte run in the payload
                int start = random.Next(copy.Length);
                random.NextBytes(copy.AsSpan(start, Math.Min(copy.Length - start, random.Next(1, 8))));
                return copy;
        }
    }
}
