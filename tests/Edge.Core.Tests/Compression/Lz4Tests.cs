using CortexEdge.Core.Compression;

namespace CortexEdge.Core.Tests.Compression;

public sealed class Lz4Tests
{
    [Fact]
    public void CompressThenDecompress_RoundTripsRepetitiveAndRandomData()
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        foreach (int length in new[] { 1, 17, 4096, 100_000 })
        {
            byte[] source = new byte[length];
            random.NextBytes(source.AsSpan(0, length / 2)); // second half zeros: compressible
            byte[] compressed = new byte[Lz4.MaxCompressedLength(length)];
            int compressedLength = Lz4.Compress(source, compressed);
            byte[] restored = new byte[length];
            Assert.True(Lz4.TryDecompress(compressed.AsSpan(0, compressedLength), restored, out int written), $"seed {seed}");
            Assert.Equal(length, written);
            Assert.Equal(source, restored);
        }
    }

    [Fact]
    public void TryDecompress_GarbageInput_ReturnsFalseWithoutOverrun()
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        byte[] destination = new byte[64];
        int rejected = 0;
        for (int i = 0; i < 2000; i++)
        {
            byte[] garbage = new byte[random.Next(1, 200)];
            random.NextBytes(garbage);
            if (!Lz4.TryDecompress(garbage, destination.AsSpan(0, 32), out int written))
            {
                rejected++;
            }
            else
            {
                Assert.InRange(written, 0, 32);
            }

            Assert.All(destination.AsSpan(32).ToArray(), b => Assert.Equal(0, b));
        }

        Assert.True(rejected > 1000, $"seed {seed}: only {rejected} of 2000 garbage blocks were rejected");
    }

    [Fact]
    public void Version_ReportsLinkedLibrary()
    {
        Assert.True(Lz4.Version >= 10900, $"liblz4 {Lz4.Version} is older than 1.9");
    }
}
