using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CortexEdge.Core.Vectors;

/// <summary>
/// Distance kernels on float32 vectors: dot product, squared L2 and cosine distance, each on the
/// scalar, Vector128 and Vector256 paths. Used for exact rescoring, centroid search and k-means.
/// Inputs have equal length (checked by callers once per collection, asserted here in DEBUG).
/// SIMD paths sum in a different order than the scalar loop, so results agree to float rounding,
/// not bit for bit.
/// </summary>
internal static class FloatKernels
{
    /// <summary>Sum of a[i]*b[i] on the best path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Dot(a, b, VectorKernelPaths.BestFloat);

    /// <summary>Sum of (a[i]-b[i])^2 on the best path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float SquaredL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => SquaredL2(a, b, VectorKernelPaths.BestFloat);

    /// <summary>1 - cos(a, b) on the best path; 1 when either vector is zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float CosineDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => CosineDistance(a, b, VectorKernelPaths.BestFloat);

    /// <summary>Sum of a[i]*b[i] on <paramref name="path"/>.</summary>
    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, VectorKernelPath path)
    {
        System.Diagnostics.Debug.Assert(a.Length == b.Length, "float kernel inputs must have equal length");
        return path switch
        {
            VectorKernelPath.Vector256 or VectorKernelPath.X64 => DotVector256(a, b),
            VectorKernelPath.Vector128 or VectorKernelPath.Arm64 => DotVector128(a, b),
            _ => DotScalar(a, b),
        };
    }

    /// <summary>Sum of (a[i]-b[i])^2 on <paramref name="path"/>.</summary>
    internal static float SquaredL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b, VectorKernelPath path)
    {
        System.Diagnostics.Debug.Assert(a.Length == b.Length, "float kernel inputs must have equal length");
        return path switch
        {
            VectorKernelPath.Vector256 or VectorKernelPath.X64 => SquaredL2Vector256(a, b),
            VectorKernelPath.Vector128 or VectorKernelPath.Arm64 => SquaredL2Vector128(a, b),
            _ => SquaredL2Scalar(a, b),
        };
    }

    /// <summary>1 - a.b / (|a| |b|) on <paramref name="path"/>, computed in one pass; 1 when either vector is zero.</summary>
    internal static float CosineDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b, VectorKernelPath path)
    {
        System.Diagnostics.Debug.Assert(a.Length == b.Length, "float kernel inputs must have equal length");
        (float dot, float aa, float bb) = path switch
        {
            VectorKernelPath.Vector256 or VectorKernelPath.X64 => CosineTermsVector256(a, b),
            VectorKernelPath.Vector128 or VectorKernelPath.Arm64 => CosineTermsVector128(a, b),
            _ => CosineTermsScalar(a, b),
        };
        if (aa == 0f || bb == 0f)
        {
            return 1f;
        }

        return 1f - (float)(dot / Math.Sqrt((double)aa * bb));
    }

    private static float DotScalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0f;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static float DotVector128(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector128<float> acc0 = Vector128<float>.Zero;
        Vector128<float> acc1 = Vector128<float>.Zero;
        for (; i <= n - 8; i += 8)
        {
            acc0 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref ra, (nuint)i), Vector128.LoadUnsafe(ref rb, (nuint)i), acc0);
            acc1 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref ra, (nuint)(i + 4)), Vector128.LoadUnsafe(ref rb, (nuint)(i + 4)), acc1);
        }

        for (; i <= n - 4; i += 4)
        {
            acc0 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref ra, (nuint)i), Vector128.LoadUnsafe(ref rb, (nuint)i), acc0);
        }

        float sum = Vector128.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static float DotVector256(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector256<float> acc0 = Vector256<float>.Zero;
        Vector256<float> acc1 = Vector256<float>.Zero;
        for (; i <= n - 16; i += 16)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ra, (nuint)i), Vector256.LoadUnsafe(ref rb, (nuint)i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ra, (nuint)(i + 8)), Vector256.LoadUnsafe(ref rb, (nuint)(i + 8)), acc1);
        }

        for (; i <= n - 8; i += 8)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ra, (nuint)i), Vector256.LoadUnsafe(ref rb, (nuint)i), acc0);
        }

        float sum = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static float SquaredL2Scalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0f;
        for (int i = 0; i < a.Length; i++)
        {
            float d = a[i] - b[i];
            sum += d * d;
        }

        return sum;
    }

    private static float SquaredL2Vector128(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector128<float> acc0 = Vector128<float>.Zero;
        Vector128<float> acc1 = Vector128<float>.Zero;
        for (; i <= n - 8; i += 8)
        {
            Vector128<float> d0 = Vector128.LoadUnsafe(ref ra, (nuint)i) - Vector128.LoadUnsafe(ref rb, (nuint)i);
            Vector128<float> d1 = Vector128.LoadUnsafe(ref ra, (nuint)(i + 4)) - Vector128.LoadUnsafe(ref rb, (nuint)(i + 4));
            acc0 = Vector128.FusedMultiplyAdd(d0, d0, acc0);
            acc1 = Vector128.FusedMultiplyAdd(d1, d1, acc1);
        }

        for (; i <= n - 4; i += 4)
        {
            Vector128<float> d = Vector128.LoadUnsafe(ref ra, (nuint)i) - Vector128.LoadUnsafe(ref rb, (nuint)i);
            acc0 = Vector128.FusedMultiplyAdd(d, d, acc0);
        }

        float sum = Vector128.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            float d = a[i] - b[i];
            sum += d * d;
        }

        return sum;
    }

    private static float SquaredL2Vector256(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector256<float> acc0 = Vector256<float>.Zero;
        Vector256<float> acc1 = Vector256<float>.Zero;
        for (; i <= n - 16; i += 16)
        {
            Vector256<float> d0 = Vector256.LoadUnsafe(ref ra, (nuint)i) - Vector256.LoadUnsafe(ref rb, (nuint)i);
            Vector256<float> d1 = Vector256.LoadUnsafe(ref ra, (nuint)(i + 8)) - Vector256.LoadUnsafe(ref rb, (nuint)(i + 8));
            acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
            acc1 = Vector256.FusedMultiplyAdd(d1, d1, acc1);
        }

        for (; i <= n - 8; i += 8)
        {
            Vector256<float> d = Vector256.LoadUnsafe(ref ra, (nuint)i) - Vector256.LoadUnsafe(ref rb, (nuint)i);
            acc0 = Vector256.FusedMultiplyAdd(d, d, acc0);
        }

        float sum = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            float d = a[i] - b[i];
            sum += d * d;
        }

        return sum;
    }

    private static (float Dot, float Aa, float Bb) CosineTermsScalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float dot = 0f, aa = 0f, bb = 0f;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }

        return (dot, aa, bb);
    }

    private static (float Dot, float Aa, float Bb) CosineTermsVector128(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector128<float> dot = Vector128<float>.Zero, aa = Vector128<float>.Zero, bb = Vector128<float>.Zero;
        for (; i <= n - 4; i += 4)
        {
            Vector128<float> va = Vector128.LoadUnsafe(ref ra, (nuint)i);
            Vector128<float> vb = Vector128.LoadUnsafe(ref rb, (nuint)i);
            dot = Vector128.FusedMultiplyAdd(va, vb, dot);
            aa = Vector128.FusedMultiplyAdd(va, va, aa);
            bb = Vector128.FusedMultiplyAdd(vb, vb, bb);
        }

        float sd = Vector128.Sum(dot), sa = Vector128.Sum(aa), sb = Vector128.Sum(bb);
        for (; i < n; i++)
        {
            sd += a[i] * b[i];
            sa += a[i] * a[i];
            sb += b[i] * b[i];
        }

        return (sd, sa, sb);
    }

    private static (float Dot, float Aa, float Bb) CosineTermsVector256(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector256<float> dot = Vector256<float>.Zero, aa = Vector256<float>.Zero, bb = Vector256<float>.Zero;
        for (; i <= n - 8; i += 8)
        {
            Vector256<float> va = Vector256.LoadUnsafe(ref ra, (nuint)i);
            Vector256<float> vb = Vector256.LoadUnsafe(ref rb, (nuint)i);
            dot = Vector256.FusedMultiplyAdd(va, vb, dot);
            aa = Vector256.FusedMultiplyAdd(va, va, aa);
            bb = Vector256.FusedMultiplyAdd(vb, vb, bb);
        }

        float sd = Vector256.Sum(dot), sa = Vector256.Sum(aa), sb = Vector256.Sum(bb);
        for (; i < n; i++)
        {
            sd += a[i] * b[i];
            sa += a[i] * a[i];
            sb += b[i] * b[i];
        }

        return (sd, sa, sb);
    }
}
