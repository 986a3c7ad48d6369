using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.Wal;

public sealed class WalSegmentHeaderTests
{
    [Fact]
    public void Encode_ThenDecode_RoundTrips()
    {
        var header = new WalSegmentHeader(0xDEADBEEF, 3, 1001, 65536);
        byte[] bytes = new byte[WalSegmentHeader.HeaderBytes];
        header.Encode(bytes);
        Assert.True(WalSegmentHeader.TryDecode(bytes, out WalSegmentHeader decoded, out string problem), problem);
        Assert.Equal(header, decoded);
    }

    [Fact]
    public void Decode_EverySingleBitFlip_IsRejected()
    {
        byte[] bytes = new byte[WalSegmentHeader.HeaderBytes];
        new WalSegmentHeader(7, 1, 1, 4096).Encode(bytes);
        for (int bit = 0; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(WalSegmentHeader.TryDecode(bytes, out _, out string problem), $"bit {bit} flip accepted");
            Assert.NotEmpty(problem);
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }

    [Fact]
    public void Decode_RandomInputs_ReturnFalseWithoutThrowing()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        int iterations = TestRandom.Iterations("CE_FUZZ_ITERATIONS", 20000);
        for (int i = 0; i < iterations; i++)
        {
            byte[] bytes = new byte[random.Next(0, 80)];
            random.NextBytes(bytes);
            Assert.False(WalSegmentHeader.TryDecode(bytes, out _, out _), $"seed {seed}: random bytes decoded as a header");
        }
    }
}
