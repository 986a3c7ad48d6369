using CortexEdge.Core.Vectors;

namespace CortexEdge.Core.Tests.Vectors;

public sealed class VectorPartitionTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(100)]
    [InlineData(128)]
    [InlineData(384)]
    [InlineData(1024)]
    public void Encode_SplitsCodesAndKeepsAHeadNormLowerBound(int dimension)
    {
        // The head plane plus the tail plane are the whole code, and the stored 16-bit head norm,
        // shifted back, is at most the exact head norm and less than one unit of the shift below it.
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        var partition = new VectorPartition(dimension, signCodes: false, capacity: 4);
        float[] vector = new float[dimension];
        float[] center = new float[dimension];
        sbyte[] expected = new sbyte[dimension];
        for (int member = 0; member < 40; member++)
        {
            for (int i = 0; i < dimension; i++)
            {
                // Every few members is extreme (all components at full scale) to reach the norm's maximum.
                vector[i] = member % 5 == 0 ? (i % 2 == 0 ? 3f : -3f) : VectorTestData.Gaussian(random) * 2;
            }

            int position = partition.Add(member, vector, center);
            ScalarQuantizer.QuantizeResidualCompactScale(vector, center, expected);
            int head = partition.HeadLength;
            Assert.Equal(dimension, head + partition.TailLength);
            Assert.True(expected.AsSpan(0, head).SequenceEqual(partition.HeadAt(position)), $"seed {seed}, dimension {dimension}, member {member}: head");
            Assert.True(expected.AsSpan(head).SequenceEqual(partition.TailAt(position)), $"seed {seed}, dimension {dimension}, member {member}: tail");
            int exact = Int8Kernels.Dot(expected.AsSpan(0, head), expected.AsSpan(0, head), VectorKernelPath.Scalar);
            long bound = (long)partition.HeadNorms[position] << partition.HeadNormShift;
            Assert.True(bound <= exact && exact - bound < (1L << partition.HeadNormShift), $"seed {seed}, dimension {dimension}, member {member}: norm {exact}, stored bound {bound}");
        }

        // Removing a member moves the last one, codes, scale and norm together.
        int last = partition.Count - 1;
        sbyte[] lastCodes = [.. partition.HeadAt(last), .. partition.TailAt(last)];
        (ushort scale, ushort norm) = (partition.Scales[last], partition.HeadNorms[last]);
        Assert.Equal(last, partition.RemoveAt(0));
        sbyte[] moved = [.. partition.HeadAt(0), .. partition.TailAt(0)];
        Assert.Equal(lastCodes, moved);
        Assert.Equal((scale, norm), (partition.Scales[0], partition.HeadNorms[0]));
    }
}
