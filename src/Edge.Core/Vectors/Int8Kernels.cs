using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace CortexEdge.Core.Vectors;

/// <summary>
/// Distance kernels on int8 codes (<see cref="ScalarQuantizer"/>): dot product and squared L2 as
/// exact 32-bit integers, on the scalar, Vector128, Vector256, ARM64 SDOT/UDOT and x64 AVX2 paths. Every path
/// returns the same integer for the same input.
/// </summary>
/// <remarks>
/// Codes must lie in [-127, 127] (the quantizer never produces -128): the portable dot paths add
/// two 16-bit products before widening, and 2 * 127 * 127 fits in a short where 2 * 128 * 128 does
/// not. Inputs have equal length of at most 2^17 (sums stay far inside int).
/// </remarks>
internal static class Int8Kernels
{
    /// <summary>Sum of a[i]*b[i] on the best path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => Dot(a, b, VectorKernelPaths.BestInt8);

    /// <summary>Sum of a[i]*b[i] on <paramref name="path"/>.</summary>
    internal static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, VectorKernelPath path)
    {
        System.Diagnostics.Debug.Assert(a.Length == b.Length, "int8 kernel inputs must have equal length");
        return path switch
        {
            VectorKernelPath.Vector256 => DotVector256(a, b),
            VectorKernelPath.Vector128 => DotVector128(a, b),
            VectorKernelPath.Arm64 => DotArm64(a, b),
            VectorKernelPath.X64 => DotX64(a, b),
            _ => DotScalar(a, b, 0),
        };
    }

    /// <summary>
    /// One int8 dot path as a type, so a scan loop generic over it gets the kernel inlined instead of
    /// a call and a path switch per vector (<see cref="VectorCollection"/> picks the type once per block).
    /// </summary>
    internal interface IDot
    {
        /// <summary>Sum of a[i]*b[i].</summary>
        static abstract int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b);
    }

    /// <summary>The scalar path as an <see cref="IDot"/>.</summary>
    internal readonly struct ScalarDot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotScalar(a, b, 0);
    }

    /// <summary>The Vector128 path as an <see cref="IDot"/>.</summary>
    internal readonly struct Vector128Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotVector128(a, b);
    }

    /// <summary>The Vector256 path as an <see cref="IDot"/>.</summary>
    internal readonly struct Vector256Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotVector256(a, b);
    }

    /// <summary>The ARM64 SDOT path as an <see cref="IDot"/>.</summary>
    internal readonly struct Arm64Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotArm64(a, b);
    }

    /// <summary>The x64 AVX2 path as an <see cref="IDot"/>.</summary>
    internal readonly struct X64Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotX64(a, b);
    }

    /// <summary>Sum of (a[i]-b[i])^2 on <paramref name="path"/>.</summary>
    internal static int SquaredL2(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, VectorKernelPath path)
    {
        System.Diagnostics.Debug.Assert(a.Length == b.Length, "int8 kernel inputs must have equal length");
        return path switch
        {
            VectorKernelPath.Vector256 or VectorKernelPath.X64 => SquaredL2Vector256(a, b),
            VectorKernelPath.Vector128 => SquaredL2Vector128(a, b),
            VectorKernelPath.Arm64 => SquaredL2Arm64(a, b),
            _ => SquaredL2Scalar(a, b, 0),
        };
    }

    private static int DotScalar(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, int start)
    {
        int sum = 0;
        for (int i = start; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static int SquaredL2Scalar(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, int start)
    {
        int sum = 0;
        for (int i = start; i < a.Length; i++)
        {
            int d = a[i] - b[i];
            sum += d * d;
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DotVector128(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        ref sbyte ra = ref MemoryMarshal.GetReference(a);
        ref sbyte rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector128<int> acc = Vector128<int>.Zero;
        for (; i <= n - 16; i += 16)
        {
            (Vector128<short> al, Vector128<short> ah) = Vector128.Widen(Vector128.LoadUnsafe(ref ra, (nuint)i));
            (Vector128<short> bl, Vector128<short> bh) = Vector128.Widen(Vector128.LoadUnsafe(ref rb, (nuint)i));
            (Vector128<int> pl, Vector128<int> ph) = Vector128.Widen((al * bl) + (ah * bh));
            acc += pl + ph;
        }

        return Vector128.Sum(acc) + DotScalar(a, b, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DotVector256(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        ref sbyte ra = ref MemoryMarshal.GetReference(a);
        ref sbyte rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector256<int> acc = Vector256<int>.Zero;
        for (; i <= n - 32; i += 32)
        {
            (Vector256<short> al, Vector256<short> ah) = Vector256.Widen(Vector256.LoadUnsafe(ref ra, (nuint)i));
            (Vector256<short> bl, Vector256<short> bh) = Vector256.Widen(Vector256.LoadUnsafe(ref rb, (nuint)i));
            (Vector256<int> pl, Vector256<int> ph) = Vector256.Widen((al * bl) + (ah * bh));
            acc += pl + ph;
        }

        int sum = Vector256.Sum(acc);
        if (i <= n - 16)
        {
            // One 16-byte step keeps lengths like 48 or 80 out of the scalar tail.
            (Vector128<short> al, Vector128<short> ah) = Vector128.Widen(Vector128.LoadUnsafe(ref ra, (nuint)i));
            (Vector128<short> bl, Vector128<short> bh) = Vector128.Widen(Vector128.LoadUnsafe(ref rb, (nuint)i));
            (Vector128<int> pl, Vector128<int> ph) = Vector128.Widen((al * bl) + (ah * bh));
            sum += Vector128.Sum(pl + ph);
            i += 16;
        }

        return sum + DotScalar(a, b, i);
    }

    private static int SquaredL2Vector128(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        ref sbyte ra = ref MemoryMarshal.GetReference(a);
        ref sbyte rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector128<int> acc = Vector128<int>.Zero;
        for (; i <= n - 16; i += 16)
        {
            (Vector128<short> al, Vector128<short> ah) = Vector128.Widen(Vector128.LoadUnsafe(ref ra, (nuint)i));
            (Vector128<short> bl, Vector128<short> bh) = Vector128.Widen(Vector128.LoadUnsafe(ref rb, (nuint)i));
            // Differences reach 254 and their squares overflow a short: square in 32 bits.
            (Vector128<int> d0, Vector128<int> d1) = Vector128.Widen(al - bl);
            (Vector128<int> d2, Vector128<int> d3) = Vector128.Widen(ah - bh);
            acc += (d0 * d0) + (d1 * d1) + (d2 * d2) + (d3 * d3);
        }

        return Vector128.Sum(acc) + SquaredL2Scalar(a, b, i);
    }

    private static int SquaredL2Vector256(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        ref sbyte ra = ref MemoryMarshal.GetReference(a);
        ref sbyte rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector256<int> acc = Vector256<int>.Zero;
        for (; i <= n - 32; i += 32)
        {
            (Vector256<short> al, Vector256<short> ah) = Vector256.Widen(Vector256.LoadUnsafe(ref ra, (nuint)i));
            (Vector256<short> bl, Vector256<short> bh) = Vector256.Widen(Vector256.LoadUnsafe(ref rb, (nuint)i));
            (Vector256<int> d0, Vector256<int> d1) = Vector256.Widen(al - bl);
            (Vector256<int> d2, Vector256<int> d3) = Vector256.Widen(ah - bh);
            acc += (d0 * d0) + (d1 * d1) + (d2 * d2) + (d3 * d3);
        }

        return Vector256.Sum(acc) + SquaredL2Scalar(a, b, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DotArm64(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (!Dp.IsSupported)
        {
            return DotVector128(a, b);
        }

        ref sbyte ra = ref MemoryMarshal.GetReference(a);
        ref sbyte rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector128<int> acc = Vector128<int>.Zero;
        for (; i <= n - 16; i += 16)
        {
            // SDOT: four int8 products summed into each int lane, one instruction per 16 bytes.
            acc = Dp.DotProduct(acc, Vector128.LoadUnsafe(ref ra, (nuint)i), Vector128.LoadUnsafe(ref rb, (nuint)i));
        }

        return Vector128.Sum(acc) + DotScalar(a, b, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DotX64(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (!Avx2.IsSupported)
        {
            return DotVector256(a, b);
        }

        ref sbyte ra = ref MemoryMarshal.GetReference(a);
        ref sbyte rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector256<int> acc = Vector256<int>.Zero;
        Vector256<short> ones = Vector256.Create((short)1);
        for (; i <= n - 32; i += 32)
        {
            // VPMADDUBSW multiplies unsigned by signed bytes: a.b = |a| . (sign(a) * b). Adjacent
            // pairs sum to at most 2 * 127 * 127, inside a short, so it never saturates.
            Vector256<sbyte> va = Vector256.LoadUnsafe(ref ra, (nuint)i);
            Vector256<sbyte> vb = Vector256.LoadUnsafe(ref rb, (nuint)i);
            Vector256<short> pairs = Avx2.MultiplyAddAdjacent(Avx2.Abs(va), Avx2.Sign(vb, va));
            acc += Avx2.MultiplyAddAdjacent(pairs, ones);
        }

        return Vector256.Sum(acc) + DotScalar(a, b, i);
    }

    private static int SquaredL2Arm64(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (!Dp.IsSupported)
        {
            return SquaredL2Vector128(a, b);
        }

        ref sbyte ra = ref MemoryMarshal.GetReference(a);
        ref sbyte rb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        Vector128<uint> acc = Vector128<uint>.Zero;
        for (; i <= n - 16; i += 16)
        {
            // |a-b| fits in a byte; UDOT of it with itself is the sum of squares.
            Vector128<byte> d = AdvSimd.AbsoluteDifference(Vector128.LoadUnsafe(ref ra, (nuint)i), Vector128.LoadUnsafe(ref rb, (nuint)i));
            acc = Dp.DotProduct(acc, d, d);
        }

        return (int)Vector128.Sum(acc) + SquaredL2Scalar(a, b, i);
    }
}
