using CortexEdge.Core.Clocks;
using CortexEdge.Core.Tests.Wal;

namespace CortexEdge.Core.Tests.Clocks;

public sealed class HlcTimestampTests
{
    [Fact]
    public void Encoding_RoundTripsAndIsLittleEndian()
    {
        HlcTimestamp timestamp = HlcTimestamp.Create(1_800_000_000_123, 42, 0x0102030405060708);
        byte[] bytes = new byte[HlcTimestamp.EncodedBytes];
        timestamp.WriteTo(bytes);
        Assert.Equal(timestamp, HlcTimestamp.Read(bytes));
        Assert.Equal(42, bytes[0]); // low byte of the packed time is the logical counter
        Assert.Equal(0x08, bytes[8]);
    }

    [Fact]
    public void Order_IsPhysicalThenLogicalThenReplica()
    {
        HlcTimestamp a = HlcTimestamp.Create(100, 5, 9);
        HlcTimestamp b = HlcTimestamp.Create(100, 6, 1);
        HlcTimestamp c = HlcTimestamp.Create(101, 0, 0);
        HlcTimestamp d = HlcTimestamp.Create(101, 0, 1);
        Assert.True(a < b && b < c && c < d);
        Assert.Equal(d, HlcTimestamp.Max(c, d));
    }

    [Fact]
    public void Read_ShortInput_ThrowsHlcMalformed_ForEveryLength()
    {
        for (int length = 0; length < HlcTimestamp.EncodedBytes; length++)
        {
            var error = Assert.Throws<EdgeException>(() => HlcTimestamp.Read(new byte[length]));
            Assert.Equal(EdgeErrorCode.HlcMalformed, error.Code);
            Assert.False(HlcTimestamp.TryRead(new byte[length], out _));
        }
    }

    [Fact]
    public void Read_RandomInputs_NeverOverReadsAndRoundTrip()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        int iterations = TestRandom.Iterations("CE_FUZZ_ITERATIONS", 20_000);
        for (int i = 0; i < iterations; i++)
        {
            byte[] input = new byte[random.Next(0, 40)];
            random.NextBytes(input);
            if (HlcTimestamp.TryRead(input, out HlcTimestamp timestamp))
            {
                byte[] again = new byte[HlcTimestamp.EncodedBytes];
                timestamp.WriteTo(again);
                Assert.True(input.AsSpan(0, HlcTimestamp.EncodedBytes).SequenceEqual(again), $"seed {seed}, iteration {i}");
            }
            else
            {
                Assert.True(input.Length < HlcTimestamp.EncodedBytes, $"seed {seed}, iteration {i}");
            }
        }
    }

    [Fact]
    public void Create_RejectsOutOfRangeParts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HlcTimestamp.Create(-1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => HlcTimestamp.Create(HlcTimestamp.PhysicalMillisecondsMax + 1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => HlcTimestamp.Create(0, HlcTimestamp.LogicalMax + 1, 0));
    }
}
