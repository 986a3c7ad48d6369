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

        /// <summary>
        /// results[r] = dot(query, rows[r * query.Length ..]) for every r below results.Length; rows is
        /// row-major and holds at least results.Length * query.Length codes.
        /// </summary>
        static abstract void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results);
    }

    /// <summary>The scalar path as an <see cref="IDot"/>.</summary>
    internal readonly struct ScalarDot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotScalar(a, b, 0);

        public static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results) => DotRowsScalar(query, rows, results);
    }

    /// <summary>The Vector128 path as an <see cref="IDot"/>.</summary>
    internal readonly struct Vector128Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotVector128(a, b);

        public static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results) => DotRowsVector128(query, rows, results);
    }

    /// <summary>The Vector256 path as an <see cref="IDot"/>.</summary>
    internal readonly struct Vector256Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotVector256(a, b);

        public static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results) => DotRowsVector256(query, rows, results);
    }

    /// <summary>The ARM64 SDOT path as an <see cref="IDot"/>.</summary>
    internal readonly struct Arm64Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotArm64(a, b);

        public static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results) => DotRowsArm64(query, rows, results);
    }

    /// <summary>The x64 AVX2 path as an <see cref="IDot"/>.</summary>
    internal readonly struct X64Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotX64(a, b);

        public static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results) => DotRowsX64(query, rows, results);
    }

    /// <summary>
    /// Dots of <paramref name="query"/> with <c>results.Length</c> consecutive rows of
    /// <paramref name="rows"/> (row-major, <c>query.Length</c> codes each) on <paramref name="path"/>.
    /// </summary>
    internal static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results, VectorKernelPath path)
    {
        if ((long)results.Length * query.Length > rows.Length)
        {
            throw new ArgumentException($"{results.Length} rows of {query.Length} codes need {(long)results.Length * query.Length} codes; {rows.Length} given", nameof(rows));
        }

        switch (path)
        {
            case VectorKernelPath.Vector256:
                DotRowsVector256(query, rows, results);
                break;
            case VectorKernelPath.Vector128:
                DotRowsVector128(query, rows, results);
                break;
            case VectorKernelPath.Arm64:
                DotRowsArm64(query, rows, results);
                break;
            case VectorKernelPath.X64:
                DotRowsX64(query, rows, results);
                break;
            default:
                DotRowsScalar(query, rows, results);
                break;
        }
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
        => DotFromVector128(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), 0, a.Length);

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

        // The 16-byte step keeps lengths like 48 or 80 out of the scalar tail.
        return Vector256.Sum(acc) + DotFromVector128(ref ra, ref rb, i, n);
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

    // Multi-row kernels: the query chunk is loaded (and widened) once and multiplied against four
    // rows, so per 16 query bytes the loads and widening of the query are paid once for four dots,
    // and four independent accumulators keep the multiply units busy. Rows are contiguous
    // (row-major), so the loop walks memory linearly. The callers check lengths; the loops use
    // unchecked refs (no bounds checks, nothing allocated).
    private static void DotRowsScalar(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results)
    {
        int d = query.Length;
        for (int r = 0; r < results.Length; r++)
        {
            results[r] = DotScalar(query, rows.Slice(r * d, d), 0);
        }
    }

    private static void DotRowsVector128(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results)
    {
        int d = query.Length;
        int count = results.Length;
        int body = d & ~15;
        ref sbyte q = ref MemoryMarshal.GetReference(query);
        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        ref int result = ref MemoryMarshal.GetReference(results);
        int r = 0;
        for (; r <= count - 4; r += 4)
        {
            ref sbyte r0 = ref Unsafe.Add(ref first, (nint)r * d);
            ref sbyte r1 = ref Unsafe.Add(ref r0, d);
            ref sbyte r2 = ref Unsafe.Add(ref r1, d);
            ref sbyte r3 = ref Unsafe.Add(ref r2, d);
            Vector128<int> acc0 = Vector128<int>.Zero, acc1 = Vector128<int>.Zero, acc2 = Vector128<int>.Zero, acc3 = Vector128<int>.Zero;
            for (int i = 0; i < body; i += 16)
            {
                (Vector128<short> ql, Vector128<short> qh) = Vector128.Widen(Vector128.LoadUnsafe(ref q, (nuint)i));
                acc0 += WidenedProducts(ql, qh, Vector128.LoadUnsafe(ref r0, (nuint)i));
                acc1 += WidenedProducts(ql, qh, Vector128.LoadUnsafe(ref r1, (nuint)i));
                acc2 += WidenedProducts(ql, qh, Vector128.LoadUnsafe(ref r2, (nuint)i));
                acc3 += WidenedProducts(ql, qh, Vector128.LoadUnsafe(ref r3, (nuint)i));
            }

            Unsafe.Add(ref result, r) = Vector128.Sum(acc0) + DotTail(ref q, ref r0, body, d);
            Unsafe.Add(ref result, r + 1) = Vector128.Sum(acc1) + DotTail(ref q, ref r1, body, d);
            Unsafe.Add(ref result, r + 2) = Vector128.Sum(acc2) + DotTail(ref q, ref r2, body, d);
            Unsafe.Add(ref result, r + 3) = Vector128.Sum(acc3) + DotTail(ref q, ref r3, body, d);
        }

        for (; r < count; r++)
        {
            ref sbyte row = ref Unsafe.Add(ref first, (nint)r * d);
            Unsafe.Add(ref result, r) = DotFromVector128(ref q, ref row, 0, d);
        }
    }

    private static void DotRowsVector256(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results)
    {
        int d = query.Length;
        int count = results.Length;
        int body = d & ~31;
        ref sbyte q = ref MemoryMarshal.GetReference(query);
        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        ref int result = ref MemoryMarshal.GetReference(results);
        int r = 0;
        for (; r <= count - 4; r += 4)
        {
            ref sbyte r0 = ref Unsafe.Add(ref first, (nint)r * d);
            ref sbyte r1 = ref Unsafe.Add(ref r0, d);
            ref sbyte r2 = ref Unsafe.Add(ref r1, d);
            ref sbyte r3 = ref Unsafe.Add(ref r2, d);
            Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero, acc2 = Vector256<int>.Zero, acc3 = Vector256<int>.Zero;
            for (int i = 0; i < body; i += 32)
            {
                (Vector256<short> ql, Vector256<short> qh) = Vector256.Widen(Vector256.LoadUnsafe(ref q, (nuint)i));
                acc0 += WidenedProducts(ql, qh, Vector256.LoadUnsafe(ref r0, (nuint)i));
                acc1 += WidenedProducts(ql, qh, Vector256.LoadUnsafe(ref r1, (nuint)i));
                acc2 += WidenedProducts(ql, qh, Vector256.LoadUnsafe(ref r2, (nuint)i));
                acc3 += WidenedProducts(ql, qh, Vector256.LoadUnsafe(ref r3, (nuint)i));
            }

            Unsafe.Add(ref result, r) = Vector256.Sum(acc0) + DotFromVector128(ref q, ref r0, body, d);
            Unsafe.Add(ref result, r + 1) = Vector256.Sum(acc1) + DotFromVector128(ref q, ref r1, body, d);
            Unsafe.Add(ref result, r + 2) = Vector256.Sum(acc2) + DotFromVector128(ref q, ref r2, body, d);
            Unsafe.Add(ref result, r + 3) = Vector256.Sum(acc3) + DotFromVector128(ref q, ref r3, body, d);
        }

        for (; r < count; r++)
        {
            Unsafe.Add(ref result, r) = DotVector256(query, rows.Slice(r * d, d));
        }
    }

    private static void DotRowsArm64(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results)
    {
        if (!Dp.IsSupported)
        {
            if (AdvSimd.IsSupported)
            {
                DotRowsNeon(query, rows, results);
            }
            else
            {
                DotRowsVector128(query, rows, results);
            }

            return;
        }

        int d = query.Length;
        int count = results.Length;
        int body = d & ~15;
        ref sbyte q = ref MemoryMarshal.GetReference(query);
        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        ref int result = ref MemoryMarshal.GetReference(results);
        int r = 0;
        for (; r <= count - 4; r += 4)
        {
            ref sbyte r0 = ref Unsafe.Add(ref first, (nint)r * d);
            ref sbyte r1 = ref Unsafe.Add(ref r0, d);
            ref sbyte r2 = ref Unsafe.Add(ref r1, d);
            ref sbyte r3 = ref Unsafe.Add(ref r2, d);
            Vector128<int> acc0 = Vector128<int>.Zero, acc1 = Vector128<int>.Zero, acc2 = Vector128<int>.Zero, acc3 = Vector128<int>.Zero;
            for (int i = 0; i < body; i += 16)
            {
                // SDOT: four int8 products summed into each int lane, one instruction per row and 16 bytes.
                Vector128<sbyte> qv = Vector128.LoadUnsafe(ref q, (nuint)i);
                acc0 = Dp.DotProduct(acc0, qv, Vector128.LoadUnsafe(ref r0, (nuint)i));
                acc1 = Dp.DotProduct(acc1, qv, Vector128.LoadUnsafe(ref r1, (nuint)i));
                acc2 = Dp.DotProduct(acc2, qv, Vector128.LoadUnsafe(ref r2, (nuint)i));
                acc3 = Dp.DotProduct(acc3, qv, Vector128.LoadUnsafe(ref r3, (nuint)i));
            }

            Unsafe.Add(ref result, r) = Vector128.Sum(acc0) + DotTail(ref q, ref r0, body, d);
            Unsafe.Add(ref result, r + 1) = Vector128.Sum(acc1) + DotTail(ref q, ref r1, body, d);
            Unsafe.Add(ref result, r + 2) = Vector128.Sum(acc2) + DotTail(ref q, ref r2, body, d);
            Unsafe.Add(ref result, r + 3) = Vector128.Sum(acc3) + DotTail(ref q, ref r3, body, d);
        }

        for (; r < count; r++)
        {
            Unsafe.Add(ref result, r) = DotArm64(query, rows.Slice(r * d, d));
        }
    }

    /// <summary>
    /// ARM64 without the dot-product extension (Cortex-A53/A72): widening multiply-add, three
    /// instructions per row and 16 bytes — SMULL of the low halves, SMLAL2 of the high halves into the
    /// same 16-bit lanes (|sum| at most 2 * 127 * 127, inside a short), SADALP into 32-bit lanes.
    /// </summary>
    private static void DotRowsNeon(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results)
    {
        int d = query.Length;
        int count = results.Length;
        int body = d & ~15;
        ref sbyte q = ref MemoryMarshal.GetReference(query);
        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        ref int result = ref MemoryMarshal.GetReference(results);
        int r = 0;
        for (; r <= count - 4; r += 4)
        {
            ref sbyte r0 = ref Unsafe.Add(ref first, (nint)r * d);
            ref sbyte r1 = ref Unsafe.Add(ref r0, d);
            ref sbyte r2 = ref Unsafe.Add(ref r1, d);
            ref sbyte r3 = ref Unsafe.Add(ref r2, d);
            Vector128<int> acc0 = Vector128<int>.Zero, acc1 = Vector128<int>.Zero, acc2 = Vector128<int>.Zero, acc3 = Vector128<int>.Zero;
            for (int i = 0; i < body; i += 16)
            {
                Vector128<sbyte> qv = Vector128.LoadUnsafe(ref q, (nuint)i);
                Vector64<sbyte> ql = qv.GetLower();
                acc0 = NeonMultiplyAdd(acc0, qv, ql, Vector128.LoadUnsafe(ref r0, (nuint)i));
                acc1 = NeonMultiplyAdd(acc1, qv, ql, Vector128.LoadUnsafe(ref r1, (nuint)i));
                acc2 = NeonMultiplyAdd(acc2, qv, ql, Vector128.LoadUnsafe(ref r2, (nuint)i));
                acc3 = NeonMultiplyAdd(acc3, qv, ql, Vector128.LoadUnsafe(ref r3, (nuint)i));
            }

            Unsafe.Add(ref result, r) = Vector128.Sum(acc0) + DotTail(ref q, ref r0, body, d);
            Unsafe.Add(ref result, r + 1) = Vector128.Sum(acc1) + DotTail(ref q, ref r1, body, d);
            Unsafe.Add(ref result, r + 2) = Vector128.Sum(acc2) + DotTail(ref q, ref r2, body, d);
            Unsafe.Add(ref result, r + 3) = Vector128.Sum(acc3) + DotTail(ref q, ref r3, body, d);
        }

        for (; r < count; r++)
        {
            Unsafe.Add(ref result, r) = DotFromVector128(ref q, ref Unsafe.Add(ref first, (nint)r * d), 0, d);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> NeonMultiplyAdd(Vector128<int> acc, Vector128<sbyte> q, Vector64<sbyte> qLow, Vector128<sbyte> row)
    {
        Vector128<short> products = AdvSimd.MultiplyWideningLower(qLow, row.GetLower());
        products = AdvSimd.MultiplyWideningUpperAndAdd(products, q, row);
        return AdvSimd.AddPairwiseWideningAndAdd(acc, products);
    }

    private static void DotRowsX64(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results)
    {
        if (AvxVnni.IsSupported)
        {
            DotRowsAvxVnni(query, rows, results);
        }
        else if (Avx2.IsSupported)
        {
            DotRowsAvx2(query, rows, results);
        }
        else
        {
            DotRowsVector256(query, rows, results);
        }
    }

    /// <summary>
    /// The AVX-VNNI form of <see cref="DotRowsAvx2"/>: VPDPBUSD multiplies |q| by sign(q) * row, sums
    /// four adjacent products and accumulates in one instruction.
    /// </summary>
    internal static void DotRowsAvxVnni(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results)
    {
        int d = query.Length;
        int count = results.Length;
        int body = d & ~31;
        ref sbyte q = ref MemoryMarshal.GetReference(query);
        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        ref int result = ref MemoryMarshal.GetReference(results);
        int r = 0;
        for (; r <= count - 4; r += 4)
        {
            ref sbyte r0 = ref Unsafe.Add(ref first, (nint)r * d);
            ref sbyte r1 = ref Unsafe.Add(ref r0, d);
            ref sbyte r2 = ref Unsafe.Add(ref r1, d);
            ref sbyte r3 = ref Unsafe.Add(ref r2, d);
            Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero, acc2 = Vector256<int>.Zero, acc3 = Vector256<int>.Zero;
            for (int i = 0; i < body; i += 32)
            {
                Vector256<sbyte> qv = Vector256.LoadUnsafe(ref q, (nuint)i);
                Vector256<byte> qa = Avx2.Abs(qv);
                acc0 = AvxVnni.MultiplyWideningAndAdd(acc0, qa, Avx2.Sign(Vector256.LoadUnsafe(ref r0, (nuint)i), qv));
                acc1 = AvxVnni.MultiplyWideningAndAdd(acc1, qa, Avx2.Sign(Vector256.LoadUnsafe(ref r1, (nuint)i), qv));
                acc2 = AvxVnni.MultiplyWideningAndAdd(acc2, qa, Avx2.Sign(Vector256.LoadUnsafe(ref r2, (nuint)i), qv));
                acc3 = AvxVnni.MultiplyWideningAndAdd(acc3, qa, Avx2.Sign(Vector256.LoadUnsafe(ref r3, (nuint)i), qv));
            }

            Vector128<int> sums = SumFour(acc0, acc1, acc2, acc3);
            if (body < d)
            {
                sums += Vector128.Create(
                    DotFromVector128(ref q, ref r0, body, d), DotFromVector128(ref q, ref r1, body, d),
                    DotFromVector128(ref q, ref r2, body, d), DotFromVector128(ref q, ref r3, body, d));
            }

            sums.StoreUnsafe(ref result, (nuint)r);
        }

        if (r < count)
        {
            DotRowsAvx2(query, rows[(r * d)..], results[r..count]);
        }
    }

    /// <summary>The AVX2 multi-row dot (callers check <see cref="Avx2.IsSupported"/>).</summary>
    internal static void DotRowsAvx2(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results)
    {

        int d = query.Length;
        int count = results.Length;
        int body = d & ~31;
        ref sbyte q = ref MemoryMarshal.GetReference(query);
        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        ref int result = ref MemoryMarshal.GetReference(results);
        Vector256<short> ones = Vector256.Create((short)1);
        int r = 0;
        for (; r <= count - 4; r += 4)
        {
            ref sbyte r0 = ref Unsafe.Add(ref first, (nint)r * d);
            ref sbyte r1 = ref Unsafe.Add(ref r0, d);
            ref sbyte r2 = ref Unsafe.Add(ref r1, d);
            ref sbyte r3 = ref Unsafe.Add(ref r2, d);
            Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero, acc2 = Vector256<int>.Zero, acc3 = Vector256<int>.Zero;
            for (int i = 0; i < body; i += 32)
            {
                // VPMADDUBSW on |q| and sign(q) * row (see DotX64); |q| is computed once for four rows.
                Vector256<sbyte> qv = Vector256.LoadUnsafe(ref q, (nuint)i);
                Vector256<byte> qa = Avx2.Abs(qv);
                acc0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qa, Avx2.Sign(Vector256.LoadUnsafe(ref r0, (nuint)i), qv)), ones);
                acc1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qa, Avx2.Sign(Vector256.LoadUnsafe(ref r1, (nuint)i), qv)), ones);
                acc2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qa, Avx2.Sign(Vector256.LoadUnsafe(ref r2, (nuint)i), qv)), ones);
                acc3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qa, Avx2.Sign(Vector256.LoadUnsafe(ref r3, (nuint)i), qv)), ones);
            }

            Vector128<int> sums = SumFour(acc0, acc1, acc2, acc3);
            if (body < d)
            {
                sums += Vector128.Create(
                    DotFromVector128(ref q, ref r0, body, d), DotFromVector128(ref q, ref r1, body, d),
                    DotFromVector128(ref q, ref r2, body, d), DotFromVector128(ref q, ref r3, body, d));
            }

            sums.StoreUnsafe(ref result, (nuint)r);
        }

        for (; r < count; r++)
        {
            Unsafe.Add(ref result, r) = DotX64(query, rows.Slice(r * d, d));
        }
    }

    /// <summary>The lane sums of four accumulators as one vector: [sum(a), sum(b), sum(c), sum(d)].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> SumFour(Vector256<int> a, Vector256<int> b, Vector256<int> c, Vector256<int> d)
    {
        Vector256<int> sums = Avx2.HorizontalAdd(Avx2.HorizontalAdd(a, b), Avx2.HorizontalAdd(c, d));
        return sums.GetLower() + sums.GetUpper();
    }

    /// <summary>Widens 16 row codes and returns q*row summed pairwise into 4 ints.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> WidenedProducts(Vector128<short> ql, Vector128<short> qh, Vector128<sbyte> row)
    {
        (Vector128<short> rl, Vector128<short> rh) = Vector128.Widen(row);
        // Each product is at most 127 * 127 in magnitude, so two of them still fit a short.
        (Vector128<int> lo, Vector128<int> hi) = Vector128.Widen((ql * rl) + (qh * rh));
        return lo + hi;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> WidenedProducts(Vector256<short> ql, Vector256<short> qh, Vector256<sbyte> row)
    {
        (Vector256<short> rl, Vector256<short> rh) = Vector256.Widen(row);
        (Vector256<int> lo, Vector256<int> hi) = Vector256.Widen((ql * rl) + (qh * rh));
        return lo + hi;
    }

    /// <summary>Dot of codes start..end: 16-byte Vector128 steps, then the scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DotFromVector128(ref sbyte q, ref sbyte row, int start, int end)
    {
        int i = start;
        int sum = 0;
        if (i <= end - 16)
        {
            Vector128<int> acc = Vector128<int>.Zero;
            for (; i <= end - 16; i += 16)
            {
                (Vector128<short> ql, Vector128<short> qh) = Vector128.Widen(Vector128.LoadUnsafe(ref q, (nuint)i));
                acc += WidenedProducts(ql, qh, Vector128.LoadUnsafe(ref row, (nuint)i));
            }

            sum = Vector128.Sum(acc);
        }

        return sum + DotTail(ref q, ref row, i, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DotTail(ref sbyte q, ref sbyte row, int start, int end)
    {
        int sum = 0;
        for (int i = start; i < end; i++)
        {
            sum += Unsafe.Add(ref q, i) * Unsafe.Add(ref row, i);
        }

        return sum;
    }
}
