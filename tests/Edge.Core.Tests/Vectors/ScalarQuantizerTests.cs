using CortexEdge.Core.Vectors;

namespace CortexEdge.Core.Tests.Vectors;

public sealed class ScalarQuantizerTests
{
    [Fact]
    public void QuantizeResidual_RandomVectors_ReconstructsWithinHalfAStep()
    {
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        for (int trial = 0; trial < 500; trial++)
        {
            int dimension = random.Next(1, 300);
            float[] source = Enumerable.Range(0, dimension).Select(_ => (float)((random.NextDouble() * 20) - 10)).ToArray();
            float[] center = Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            sbyte[] codes = new sbyte[dimension];
            float scale = ScalarQuantizer.QuantizeResidual(source, center, codes);
            float[] restored = new float[dimension];
            ScalarQuantizer.Dequantize(codes, scale, restored);
            for (int i = 0; i < dimension; i++)
            {
                Assert.InRange((int)codes[i], -127, 127);
                float residual = source[i] - center[i];
                Assert.True(Math.Abs(restored[i] - residual) <= (scale * 0.5f) + 1e-5f, $"seed {seed}, trial {trial}, component {i}: {restored[i]} vs {residual}, scale {scale}");
            }

            Assert.Contains(codes, c => Math.Abs((int)c) == 127); // the largest component uses the full range
        }
    }

    [Fact]
    public void QuantizeResidualCompactScale_RoundsTheScaleUpToBfloat16_AndReconstructsWithinHalfItsStep()
    {
        // The 16-bit scale is at least the exact one and less than 2^-7 above it, the codes are computed
        // with it (in range, within half a step of the residual), across magnitudes from 1e-30 to 1e30.
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        for (int trial = 0; trial < 500; trial++)
        {
            int dimension = random.Next(1, 300);
            double magnitude = Math.Pow(10, random.Next(-30, 31));
            float[] source = Enumerable.Range(0, dimension).Select(_ => (float)(((random.NextDouble() * 20) - 10) * magnitude)).ToArray();
            float[] center = new float[dimension];
            sbyte[] codes = new sbyte[dimension];
            float scale = ScalarQuantizer.ScaleFromBits(ScalarQuantizer.QuantizeResidualCompactScale(source, center, codes));
            float exact = source.Max(MathF.Abs) / 127;
            Assert.True(scale >= exact && scale < exact * (1 + (1.0 / 128)), $"seed {seed}, trial {trial}: scale {scale} vs exact {exact}");
            for (int i = 0; i < dimension; i++)
            {
                Assert.InRange((int)codes[i], -127, 127);
                Assert.True(Math.Abs((codes[i] * scale) - source[i]) <= (scale * 0.5f * 1.0001f), $"seed {seed}, trial {trial}, component {i}: {codes[i] * scale} vs {source[i]}, scale {scale}");
            }
        }

        sbyte[] zero = [5, 5];
        Assert.Equal(0, ScalarQuantizer.QuantizeResidualCompactScale(new float[2], new float[2], zero));
        Assert.All(zero, c => Assert.Equal(0, c));
    }

    [Fact]
    public void Quantize_ZeroVector_GivesZeroScaleAndCodes()
    {
        sbyte[] codes = [5, 5, 5];
        Assert.Equal(0f, ScalarQuantizer.Quantize(new float[3], codes));
        Assert.All(codes, c => Assert.Equal(0, c));
    }

    [Fact]
    public void Quantize_ExtremeNegative_NeverProducesMinus128()
    {
        sbyte[] codes = new sbyte[4];
        float scale = ScalarQuantizer.Quantize([-1e30f, 1e30f, -3f, 0f], codes);
        Assert.Equal([-127, 127, 0, 0], codes.Select(c => (int)c));
        Assert.Equal(1e30f / 127f, scale, 1e24f);
    }

    [Fact]
    public void SignBits_SetsPositiveResidualsOnly_AndLeavesPaddingZero()
    {
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        for (int dimension = 1; dimension <= 200; dimension++)
        {
            float[] source = Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            float[] center = new float[dimension];
            ulong[] bits = Enumerable.Repeat(ulong.MaxValue, ScalarQuantizer.SignWordCount(dimension)).ToArray();
            ScalarQuantizer.SignBits(source, center, bits);
            for (int i = 0; i < bits.Length * 64; i++)
            {
                bool set = (bits[i >> 6] & (1UL << (i & 63))) != 0;
                bool expected = i < dimension && source[i] > 0f;
                Assert.True(set == expected, $"seed {seed}, dimension {dimension}, bit {i}");
            }
        }
    }

    [Fact]
    public void Int8DotOfCodes_TimesScales_ApproximatesFloatDot()
    {
        // The property the index relies on: s_a * s_b * dot(codes) estimates a.b with error bounded by
        // the rounding steps: |a.b - est| <= sum(|a_i| s_b/2 + |b_i| s_a/2 + s_a s_b / 4).
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        for (int trial = 0; trial < 300; trial++)
        {
            int dimension = random.Next(1, 512);
            float[] a = Enumerable.Range(0, dimension).Select(_ => VectorTestData.Gaussian(random)).ToArray();
            float[] b = Enumerable.Range(0, dimension).Select(_ => VectorTestData.Gaussian(random)).ToArray();
            sbyte[] ca = new sbyte[dimension];
            sbyte[] cb = new sbyte[dimension];
            float sa = ScalarQuantizer.Quantize(a, ca);
            float sb = ScalarQuantizer.Quantize(b, cb);
            double estimate = (double)sa * sb * Int8Kernels.Dot(ca, cb);
            double exact = 0, bound = 0;
            for (int i = 0; i < dimension; i++)
            {
                exact += (double)a[i] * b[i];
                bound += (Math.Abs(a[i]) * sb / 2) + (Math.Abs(b[i]) * sa / 2) + (sa * sb / 4);
            }

            Assert.True(Math.Abs(estimate - exact) <= bound + 1e-4, $"seed {seed}, trial {trial}: estimate {estimate}, exact {exact}, bound {bound}");
        }
    }
}
