using System.Buffers;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.Vectors;

namespace CortexEdge.Core.Tests.Vectors;

public sealed class VectorCodecTests
{
    [Fact]
    public void EncodeThenDecode_EveryKind_RoundTrips()
    {
        var buffer = new ArrayBufferWriter<byte>();
        VectorCodec.EncodeCreateCollection(buffer, "faults", 384, VectorMetric.Dot);
        Assert.Equal(new VectorOperation(VectorOperationKind.CreateCollection, "faults", "", null, VectorMetric.Dot, 384, null), VectorCodec.Decode(buffer.WrittenSpan, "test"));

        buffer.ResetWrittenCount();
        VectorCodec.EncodeUpsert(buffer, "faults", "sig-ü", "devices/7", VectorMetric.L2, [1.5f, -0f, float.MaxValue]);
        VectorOperation upsert = VectorCodec.Decode(buffer.WrittenSpan, "test");
        Assert.Equal((VectorOperationKind.Upsert, "faults", "sig-ü", "devices/7", VectorMetric.L2, 3), (upsert.Kind, upsert.Collection, upsert.Id, upsert.DocumentKey, upsert.Metric, upsert.Dimension));
        Assert.Equal([1.5f, -0f, float.MaxValue], upsert.Vector!);

        buffer.ResetWrittenCount();
        VectorCodec.EncodeDelete(buffer, "faults", "sig-ü");
        VectorOperation delete = VectorCodec.Decode(buffer.WrittenSpan, "test");
        Assert.Equal((VectorOperationKind.Delete, "faults", "sig-ü"), (delete.Kind, delete.Collection, delete.Id));
    }

    [Fact]
    public void Decode_TruncatedOrExtended_ThrowsCorruptionNamingLocation()
    {
        var buffer = new ArrayBufferWriter<byte>();
        VectorCodec.EncodeUpsert(buffer, "c", "id", "k", VectorMetric.Cosine, [1f, 2f]);
        byte[] valid = buffer.WrittenSpan.ToArray();
        for (int length = 0; length < valid.Length; length++)
        {
            EdgeCorruptionException error = Assert.Throws<EdgeCorruptionException>(() => VectorCodec.Decode(valid.AsSpan(0, length), "WAL LSN 9"));
            Assert.Equal(EdgeErrorCode.VectorRecordMalformed, error.Code);
            Assert.StartsWith("WAL LSN 9 offset ", error.Location, StringComparison.Ordinal);
        }

        EdgeCorruptionException trailing = Assert.Throws<EdgeCorruptionException>(() => VectorCodec.Decode([.. valid, 0], "WAL LSN 9"));
        Assert.Contains("1 bytes follow", trailing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NaNComponent_IsCorruption()
    {
        var buffer = new ArrayBufferWriter<byte>();
        VectorCodec.EncodeUpsert(buffer, "c", "id", "k", VectorMetric.L2, [1f, 2f]);
        byte[] bytes = buffer.WrittenSpan.ToArray();
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, bytes.Length - 4);
        EdgeCorruptionException error = Assert.Throws<EdgeCorruptionException>(() => VectorCodec.Decode(bytes, "x"));
        Assert.Contains("component 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_BadNames_ThrowVectorInvalid()
    {
        var buffer = new ArrayBufferWriter<byte>();
        Assert.Equal(EdgeErrorCode.VectorInvalid, Assert.Throws<EdgeException>(() => VectorCodec.EncodeDelete(buffer, "c", "")).Code);
        Assert.Equal(EdgeErrorCode.VectorInvalid, Assert.Throws<EdgeException>(() => VectorCodec.EncodeDelete(buffer, "c", new string('x', VectorCodec.IdBytesMax + 1))).Code);
        Assert.Equal(EdgeErrorCode.VectorInvalid, Assert.Throws<EdgeException>(() => VectorCodec.EncodeDelete(buffer, "c", "\ud800")).Code);
    }

    [Fact]
    public void Decode_FuzzedInput_ReturnsOrThrowsCorruptionOnly()
    {
        // Random bytes and mutations of valid encodings (bit flips, byte changes, truncation, insertion):
        // every outcome is a decoded op or an EdgeCorruptionException; anything else fails the test.
        int seed = TestRandom.Seed();
        int iterations = TestRandom.Iterations("CE_FUZZ_ITERATIONS", 20_000);
        var random = new Random(seed);
        byte[][] valid = ValidEncodings(random);
        int decoded = 0, rejected = 0;
        for (int i = 0; i < iterations; i++)
        {
            byte[] input = random.Next(4) == 0 ? RandomBytes(random) : Mutate(random, valid[random.Next(valid.Length)]);
            try
            {
                VectorOperation operation = VectorCodec.Decode(input, "fuzz");
                Assert.True(operation.Collection.Length > 0, $"seed {seed}, iteration {i}: empty collection name decoded");
                decoded++;
            }
            catch (EdgeCorruptionException exception)
            {
                Assert.True(exception.Code == EdgeErrorCode.VectorRecordMalformed, $"seed {seed}, iteration {i}: code {exception.Code}");
                rejected++;
            }
            catch (Exception exception)
            {
                Assert.Fail($"seed {seed}, iteration {i}: {exception.GetType().Name}: {exception.Message} for input {Convert.ToHexString(input)}");
            }
        }

        Assert.True(decoded > 0 && rejected > 0, $"seed {seed}: decoded {decoded}, rejected {rejected}");
    }

    private static byte[][] ValidEncodings(Random random)
    {
        var encodings = new List<byte[]>();
        var buffer = new ArrayBufferWriter<byte>();
        for (int i = 0; i < 30; i++)
        {
            buffer.ResetWrittenCount();
            float[] vector = Enumerable.Range(0, random.Next(1, 40)).Select(_ => (float)random.NextDouble()).ToArray();
            switch (i % 3)
            {
                case 0:
                    VectorCodec.EncodeUpsert(buffer, $"c{i}", $"id{i}", $"doc/{i}", (VectorMetric)(i % 3), vector);
                    break;
                case 1:
                    VectorCodec.EncodeDelete(buffer, $"c{i}", $"id{i}");
                    break;
                default:
                    VectorCodec.EncodeCreateCollection(buffer, $"c{i}", vector.Length, VectorMetric.Cosine);
                    break;
            }

            encodings.Add(buffer.WrittenSpan.ToArray());
        }

        return [.. encodings];
    }

    private static byte[] RandomBytes(Random random)
    {
        byte[] bytes = new byte[random.Next(0, 64)];
        random.NextBytes(bytes);
        if (bytes.Length > 1 && random.Next(2) == 0)
        {
            bytes[0] = 1; // valid format version, so decoding goes deeper
            bytes[1] = (byte)random.Next(0, 5);
        }

        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] source)
    {
        var bytes = new List<byte>(source);
        int mutations = random.Next(1, 4);
        for (int m = 0; m < mutations && bytes.Count > 0; m++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 3:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                default:
                    bytes[at] = 0xFF;
                    break;
            }
        }

        return [.. bytes];
    }
}
