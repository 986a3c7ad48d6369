using CortexEdge.Core.Vectors;

namespace CortexEdge.Core.Tests.Vectors;

/// <summary>
/// Every kernel path against the scalar path for every length 1..1024, so tails that are not a
/// multiple of any vector width are covered. The Arm64 rows run SDOT/CNT on ARM64 boards and the
/// X64 rows AVX2 on x64; each runs its portable fallback elsewhere. Vector128/Vector256 rows are
/// listed only where the hardware accelerates them.
/// </summary>
public sealed class VectorKernelTests
{
    private const int LengthMax = 1024;

    public static TheoryData<string> SimdPaths()
    {
        var data = new TheoryData<string>();
        foreach (VectorKernelPath path in new[] { VectorKernelPath.Vector128, VectorKernelPath.Vector256, VectorKernelPath.Arm64, VectorKernelPath.X64 })
        {
            // The instruction-set paths fall back to a portable one when the CPU lacks them, so they are
            // always listed; Vector128/Vector256 are listed only where the hardware accelerates them.
            if (path is VectorKernelPath.Arm64 or VectorKernelPath.X64 || VectorKernelPaths.IsSupported(path))
            {
                data.Add(path.ToString());
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Int8Dot_EveryLength_EqualsScalar(string pathName)
    {
        VectorKernelPath path = Enum.Parse<VectorKernelPath>(pathName);
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        sbyte[] a = new sbyte[LengthMax];
        sbyte[] b = new sbyte[LengthMax];
        for (int length = 1; length <= LengthMax; length++)
        {
            FillCodes(random, a, length);
            FillCodes(random, b, length);
            int expected = Int8Kernels.Dot(a.AsSpan(0, length), b.AsSpan(0, length), VectorKernelPath.Scalar);
            int actual = Int8Kernels.Dot(a.AsSpan(0, length), b.AsSpan(0, length), path);
            Assert.True(expected == actual, $"seed {seed}, {path}, length {length}: dot {actual}, scalar {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Int8SquaredL2_EveryLength_EqualsScalar(string pathName)
    {
        VectorKernelPath path = Enum.Parse<VectorKernelPath>(pathName);
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        sbyte[] a = new sbyte[LengthMax];
        sbyte[] b = new sbyte[LengthMax];
        for (int length = 1; length <= LengthMax; length++)
        {
            FillCodes(random, a, length);
            FillCodes(random, b, length);
            int expected = Int8Kernels.SquaredL2(a.AsSpan(0, length), b.AsSpan(0, length), VectorKernelPath.Scalar);
            int actual = Int8Kernels.SquaredL2(a.AsSpan(0, length), b.AsSpan(0, length), path);
            Assert.True(expected == actual, $"seed {seed}, {path}, length {length}: squared L2 {actual}, scalar {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Int8Kernels_ExtremeCodes_DoNotOverflow(string pathName)
    {
        // All +127 against all -127 (dot) and +127 against -127 (L2: differences of 254) are the
        // largest magnitudes the 16-bit intermediate steps must carry.
        VectorKernelPath path = Enum.Parse<VectorKernelPath>(pathName);
        for (int length = 1; length <= LengthMax; length++)
        {
            sbyte[] high = Enumerable.Repeat((sbyte)127, length).ToArray();
            sbyte[] low = Enumerable.Repeat((sbyte)-127, length).ToArray();
            Assert.Equal(length * 127 * 127, Int8Kernels.Dot(high, high, path));
            Assert.Equal(-length * 127 * 127, Int8Kernels.Dot(high, low, path));
            Assert.Equal(length * 254 * 254, Int8Kernels.SquaredL2(high, low, path));
        }
    }

    public static TheoryData<string> Int8RowPaths()
    {
        TheoryData<string> data = SimdPaths();
        data.Add(nameof(VectorKernelPath.Scalar));
        return data;
    }

    [Theory]
    [MemberData(nameof(Int8RowPaths))]
    public void Int8DotRows_EveryLengthAndRowCount_EqualsScalarDotPerRow(string pathName)
    {
        // Row counts 1..9 cover the four-row blocks and every remainder; lengths 1..1024 every tail.
        VectorKernelPath path = Enum.Parse<VectorKernelPath>(pathName);
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        const int RowsMax = 9;
        sbyte[] query = new sbyte[LengthMax];
        sbyte[] rows = new sbyte[RowsMax * LengthMax];
        int[] results = new int[RowsMax];
        for (int length = 1; length <= LengthMax; length++)
        {
            int rowCount = 1 + (length % RowsMax);
            FillCodes(random, query, length);
            FillCodes(random, rows, rowCount * length);
            Int8Kernels.DotRows(query.AsSpan(0, length), rows.AsSpan(0, rowCount * length), results.AsSpan(0, rowCount), path);
            for (int r = 0; r < rowCount; r++)
            {
                int expected = Int8Kernels.Dot(query.AsSpan(0, length), rows.AsSpan(r * length, length), VectorKernelPath.Scalar);
                Assert.True(expected == results[r], $"seed {seed}, {path}, length {length}, row {r} of {rowCount}: dot {results[r]}, scalar {expected}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Int8RowPaths))]
    public void Int8DotRows_ExtremeCodes_DoNotOverflow(string pathName)
    {
        VectorKernelPath path = Enum.Parse<VectorKernelPath>(pathName);
        foreach (int length in new[] { 1, 15, 16, 17, 31, 32, 33, 128, 384, 1023, 1024 })
        {
            sbyte[] high = Enumerable.Repeat((sbyte)127, length).ToArray();
            sbyte[] rows = new sbyte[6 * length];
            for (int i = 0; i < rows.Length; i++)
            {
                rows[i] = (i / length % 2 == 0) ? (sbyte)127 : (sbyte)-127;
            }

            int[] results = new int[6];
            Int8Kernels.DotRows(high, rows, results, path);
            for (int r = 0; r < 6; r++)
            {
                Assert.Equal((r % 2 == 0 ? 1 : -1) * length * 127 * 127, results[r]);
            }
        }
    }

    [Fact]
    public void Int8DotRows_Avx2AndAvxVnniForms_EqualScalar()
    {
        // The X64 path picks one form by the CPU; both are checked here wherever the CPU has them.
        var forms = new List<(string Name, Action<ReadOnlyMemory<sbyte>, ReadOnlyMemory<sbyte>, int[]> Run)>();
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            forms.Add(("AVX2", (q, rows, results) => Int8Kernels.DotRowsAvx2(q.Span, rows.Span, results)));
        }

        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            forms.Add(("AVX-VNNI", (q, rows, results) => Int8Kernels.DotRowsAvxVnni(q.Span, rows.Span, results)));
        }

        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        const int RowsMax = 9;
        sbyte[] query = new sbyte[LengthMax];
        sbyte[] rows = new sbyte[RowsMax * LengthMax];
        foreach ((string name, Action<ReadOnlyMemory<sbyte>, ReadOnlyMemory<sbyte>, int[]> run) in forms)
        {
            for (int length = 1; length <= LengthMax; length++)
            {
                int rowCount = 1 + ((length * 5) % RowsMax);
                FillCodes(random, query, length);
                FillCodes(random, rows, rowCount * length);
                int[] results = new int[rowCount];
                run(query.AsMemory(0, length), rows.AsMemory(0, rowCount * length), results);
                for (int r = 0; r < rowCount; r++)
                {
                    int expected = Int8Kernels.Dot(query.AsSpan(0, length), rows.AsSpan(r * length, length), VectorKernelPath.Scalar);
                    Assert.True(expected == results[r], $"seed {seed}, {name}, length {length}, row {r} of {rowCount}: dot {results[r]}, scalar {expected}");
                }
            }
        }
    }

    [Fact]
    public void Int8DotRows_RowsTooShort_Throws()
    {
        sbyte[] query = new sbyte[16];
        Assert.Throws<ArgumentException>(() => Int8Kernels.DotRows(query, new sbyte[47], new int[3], VectorKernelPath.Scalar));
    }

    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void FloatKernels_EveryLength_MatchScalarWithinRounding(string pathName)
    {
        VectorKernelPath path = Enum.Parse<VectorKernelPath>(pathName);
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        float[] a = new float[LengthMax];
        float[] b = new float[LengthMax];
        for (int length = 1; length <= LengthMax; length++)
        {
            double magnitude = 0;
            for (int i = 0; i < length; i++)
            {
                a[i] = (float)((random.NextDouble() * 4) - 2);
                b[i] = (float)((random.NextDouble() * 4) - 2);
                magnitude += Math.Abs(a[i] * b[i]) + (a[i] * a[i]) + (b[i] * b[i]);
            }

            ReadOnlySpan<float> x = a.AsSpan(0, length);
            ReadOnlySpan<float> y = b.AsSpan(0, length);
            double tolerance = 1e-5 * magnitude;
            AssertClose(FloatKernels.Dot(x, y, VectorKernelPath.Scalar), FloatKernels.Dot(x, y, path), tolerance, $"seed {seed}, {path}, length {length}, dot");
            AssertClose(FloatKernels.SquaredL2(x, y, VectorKernelPath.Scalar), FloatKernels.SquaredL2(x, y, path), tolerance, $"seed {seed}, {path}, length {length}, squared L2");
            AssertClose(FloatKernels.CosineDistance(x, y, VectorKernelPath.Scalar), FloatKernels.CosineDistance(x, y, path), 1e-4, $"seed {seed}, {path}, length {length}, cosine");
        }
    }

    [Fact]
    public void FloatKernelsScalar_KnownVectors_GiveKnownDistances()
    {
        float[] a = [1, 2, 3];
        float[] b = [4, -5, 6];
        Assert.Equal(12f, FloatKernels.Dot(a, b, VectorKernelPath.Scalar));
        Assert.Equal(9f + 49f + 9f, FloatKernels.SquaredL2(a, b, VectorKernelPath.Scalar));
        Assert.Equal(1f - (12f / MathF.Sqrt(14f * 77f)), FloatKernels.CosineDistance(a, b, VectorKernelPath.Scalar), 6);
        Assert.Equal(1f, FloatKernels.CosineDistance(a, new float[3], VectorKernelPath.Scalar));
    }

    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Hamming_EveryWordCount_EqualsScalar(string pathName)
    {
        VectorKernelPath path = Enum.Parse<VectorKernelPath>(pathName);
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        ulong[] a = new ulong[LengthMax];
        ulong[] b = new ulong[LengthMax];
        for (int length = 1; length <= LengthMax; length++)
        {
            for (int i = 0; i < length; i++)
            {
                // Mix dense, sparse and all-ones words so every popcount range is hit.
                a[i] = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
                b[i] = random.Next(4) switch { 0 => 0UL, 1 => ulong.MaxValue, _ => (ulong)random.NextInt64() };
            }

            int expected = BinaryKernels.Hamming(a.AsSpan(0, length), b.AsSpan(0, length), VectorKernelPath.Scalar);
            int actual = BinaryKernels.Hamming(a.AsSpan(0, length), b.AsSpan(0, length), path);
            Assert.True(expected == actual, $"seed {seed}, {path}, {length} words: hamming {actual}, scalar {expected}");
        }
    }

    [Fact]
    public void HammingScalar_AllBitsDiffer_CountsEveryBit()
    {
        ulong[] zeros = new ulong[5];
        ulong[] ones = Enumerable.Repeat(ulong.MaxValue, 5).ToArray();
        Assert.Equal(320, BinaryKernels.Hamming(zeros, ones, VectorKernelPath.Scalar));
        Assert.Equal(0, BinaryKernels.Hamming(ones, ones, VectorKernelPath.Scalar));
    }

    [Fact]
    public void BestPaths_AreSupportedOnThisCpu()
    {
        Assert.True(VectorKernelPaths.IsSupported(VectorKernelPaths.BestFloat), $"best float path {VectorKernelPaths.BestFloat}");
        Assert.True(VectorKernelPaths.IsSupported(VectorKernelPaths.BestInt8), $"best int8 path {VectorKernelPaths.BestInt8}");
        Assert.True(VectorKernelPaths.IsSupported(VectorKernelPaths.BestBinary), $"best binary path {VectorKernelPaths.BestBinary}");
    }

    private static void FillCodes(Random random, sbyte[] codes, int length)
    {
        for (int i = 0; i < length; i++)
        {
            codes[i] = (sbyte)random.Next(-127, 128);
        }
    }

    private static void AssertClose(float expected, float actual, double tolerance, string message) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{message}: {actual} vs scalar {expected} (tolerance {tolerance})");
}
