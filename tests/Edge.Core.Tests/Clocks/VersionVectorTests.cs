using CortexEdge.Core.Clocks;
using CortexEdge.Core.Tests.Wal;

namespace CortexEdge.Core.Tests.Clocks;

public sealed class VersionVectorTests
{
    private static VersionVector RandomVector(Random random)
    {
        var vector = new VersionVector();
        int count = random.Next(0, 6);
        for (int i = 0; i < count; i++)
        {
            vector.AdvanceTo((ulong)random.Next(1, 8), (ulong)random.Next(1, 20));
        }

        return vector;
    }

    private static VersionVector Merged(VersionVector a, VersionVector b)
    {
        VersionVector result = a.Clone();
        result.Merge(b);
        return result;
    }

    [Fact]
    public void TryAdvance_AcceptsOnlyTheNextSequence()
    {
        var vector = new VersionVector();
        Assert.True(vector.TryAdvance(5, 1));
        Assert.False(vector.TryAdvance(5, 1)); // duplicate
        Assert.False(vector.TryAdvance(5, 3)); // gap
        Assert.True(vector.TryAdvance(5, 2));
        Assert.Equal(2UL, vector[5]);
        Assert.Equal(0UL, vector[6]);
    }

    [Fact]
    public void Laws_MergeIsCommutativeAssociativeIdempotent_AndCompareAgreesWithDominates()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        int iterations = TestRandom.Iterations("CE_CRDT_SCHEDULES", 10_000);
        for (int i = 0; i < iterations; i++)
        {
            VersionVector a = RandomVector(random), b = RandomVector(random), c = RandomVector(random);
            string context = $"seed {seed}, iteration {i}: a={a} b={b} c={c}";
            Assert.True(Merged(a, b).Equals(Merged(b, a)), "commutative; " + context);
            Assert.True(Merged(Merged(a, b), c).Equals(Merged(a, Merged(b, c))), "associative; " + context);
            Assert.True(Merged(a, a).Equals(a), "idempotent; " + context);
            VersionVector ab = Merged(a, b);
            Assert.True(ab.Dominates(a) && ab.Dominates(b), "merge dominates both; " + context);
            VersionVectorOrder order = a.Compare(b);
            VersionVectorOrder expected = (a.Dominates(b), b.Dominates(a)) switch
            {
                (true, true) => VersionVectorOrder.Equal,
                (true, false) => VersionVectorOrder.After,
                (false, true) => VersionVectorOrder.Before,
                _ => VersionVectorOrder.Concurrent,
            };
            Assert.True(order == expected, "compare; " + context);
            Assert.Equal(order switch { VersionVectorOrder.Before => VersionVectorOrder.After, VersionVectorOrder.After => VersionVectorOrder.Before, _ => order }, b.Compare(a));
            VersionVector decoded = VersionVector.Decode(a.ToArray());
            Assert.True(decoded.Equals(a), "round trip; " + context);
            Assert.Equal(a.ToArray(), decoded.ToArray());
        }
    }

    [Fact]
    public void Encode_IsCanonicalAndCompact()
    {
        var a = new VersionVector();
        a.AdvanceTo(2, 300);
        a.AdvanceTo(1, 1);
        var b = new VersionVector();
        b.AdvanceTo(1, 1);
        b.AdvanceTo(2, 300);
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.Equal(1 + 9 + 10, a.ToArray().Length); // count, (8-byte id + 1-byte seq), (8-byte id + 2-byte seq)
        Assert.Equal([0], new VersionVector().ToArray());
    }

    [Fact]
    public void Decode_Fuzzed_ThrowsOnlyVersionVectorMalformed()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        int iterations = TestRandom.Iterations("CE_FUZZ_ITERATIONS", 20_000);
        for (int i = 0; i < iterations; i++)
        {
            byte[] input;
            if (i % 2 == 0)
            {
                input = new byte[random.Next(0, 64)];
                random.NextBytes(input);
            }
            else
            {
                input = RandomVector(random).ToArray();
                int mutations = random.Next(1, 4);
                for (int m = 0; m < mutations && input.Length > 0; m++)
                {
                    switch (random.Next(3))
                    {
                        case 0:
                            input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                            break;
                        case 1:
                            input = input[..random.Next(input.Length)];
                            break;
                        default:
                            input = [.. input, (byte)random.Next(256)];
                            break;
                    }
                }
            }

            try
            {
                VersionVector decoded = VersionVector.Decode(input);
                Assert.True(decoded.ToArray().AsSpan().SequenceEqual(input), $"seed {seed}, iteration {i}: a decoded vector re-encodes to its input");
            }
            catch (EdgeException error) when (error.Code == EdgeErrorCode.VersionVectorMalformed)
            {
            }
        }
    }

    [Fact]
    public void Decode_HugeCount_IsRejectedBeforeAllocating()
    {
        byte[] input = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
        var error = Assert.Throws<EdgeException>(() => VersionVector.Decode(input));
        Assert.Equal(EdgeErrorCode.VersionVectorMalformed, error.Code);
    }
}
