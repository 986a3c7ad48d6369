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

        /// <summary>
        /// results[r] = dot(row r, row r) (its squared norm) for every r below results.Length, rows of
        /// <paramref name="length"/> codes, row-major.
        /// </summary>
        static abstract void SquaredNormRows(ReadOnlySpan<sbyte> rows, int length, Span<int> results);

        /// <summary>
        /// <see cref="DotRows"/> into <paramref name="dots"/> and <see cref="SquaredNormRows"/> into
        /// <paramref name="norms"/> (both <c>dots.Length</c> long) in one pass over the rows.
        /// </summary>
        static abstract void DotNormRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> dots, Span<int> norms);
    }

    /// <summary>The scalar path as an <see cref="IDot"/>.</summary>
    internal readonly struct ScalarDot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotScalar(a, b, 0);

        public static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results) => DotRowsScalar(query, rows, results);

        public static void SquaredNormRows(ReadOnlySpan<sbyte> rows, int length, Span<int> results) => SquaredNormRowsScalar(rows, length, results);

        public static void DotNormRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> dots, Span<int> norms)
        {
            DotRows(query, rows, dots);
            SquaredNormRows(rows, query.Length, norms);
        }
    }

    /// <summary>The Vector128 path as an <see cref="IDot"/>.</summary>
    internal readonly struct Vector128Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotVector128(a, b);

        public static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results) => DotRowsVector128(query, rows, results);

        public static void SquaredNormRows(ReadOnlySpan<sbyte> rows, int length, Span<int> results) => SquaredNormRowsVector128(rows, length, results);

        public static void DotNormRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> dots, Span<int> norms)
        {
            DotRows(query, rows, dots);
            SquaredNormRows(rows, query.Length, norms);
        }
    }

    /// <summary>The Vector256 path as an <see cref="IDot"/>.</summary>
    internal readonly struct Vector256Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotVector256(a, b);

        public static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results) => DotRowsVector256(query, rows, results);

        public static void SquaredNormRows(ReadOnlySpan<sbyte> rows, int length, Span<int> results) => SquaredNormRowsVector256(rows, length, results);

        public static void DotNormRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> dots, Span<int> norms)
        {
            DotRows(query, rows, dots);
            SquaredNormRows(rows, query.Length, norms);
        }
    }

    /// <summary>The ARM64 SDOT path as an <see cref="IDot"/>.</summary>
    internal readonly struct Arm64Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotArm64(a, b);

        public static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results) => DotRowsArm64(query, rows, results);

        public static void SquaredNormRows(ReadOnlySpan<sbyte> rows, int length, Span<int> results) => SquaredNormRowsVector128(rows, length, results);

        public static void DotNormRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> dots, Span<int> norms)
        {
            DotRows(query, rows, dots);
            SquaredNormRows(rows, query.Length, norms);
        }
    }

    /// <summary>The x64 AVX2 path as an <see cref="IDot"/>.</summary>
    internal readonly struct X64Dot : IDot
    {
        public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b) => DotX64(a, b);

        public static void DotRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> results) => DotRowsX64(query, rows, results);

        public static void SquaredNormRows(ReadOnlySpan<sbyte> rows, int length, Span<int> results) => SquaredNormRowsX64(rows, length, results);

        public static void DotNormRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> dots, Span<int> norms) => DotNormRowsX64(query, rows, dots, norms);
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

    /// <summary>
    /// Squared norms of <c>results.Length</c> consecutive rows of <paramref name="rows"/> (row-major,
    /// <paramref name="length"/> codes each) on <paramref name="path"/>. ARM64 uses the Vector128 path
    /// (a norm needs no SDOT: it runs where the dot is memory-bound anyway).
    /// </summary>
    internal static void SquaredNormRows(ReadOnlySpan<sbyte> rows, int length, Span<int> results, VectorKernelPath path)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if ((long)results.Length * length > rows.Length)
        {
            throw new ArgumentException($"{results.Length} rows of {length} codes need {(long)results.Length * length} codes; {rows.Length} given", nameof(rows));
        }

        switch (path)
        {
            case VectorKernelPath.Vector256:
                SquaredNormRowsVector256(rows, length, results);
                break;
            case VectorKernelPath.Vector128 or VectorKernelPath.Arm64:
                SquaredNormRowsVector128(rows, length, results);
                break;
            case VectorKernelPath.X64:
                SquaredNormRowsX64(rows, length, results);
                break;
            default:
                SquaredNormRowsScalar(rows, length, results);
                break;
        }
    }

    /// <summary>
    /// <see cref="DotRows(ReadOnlySpan{sbyte}, ReadOnlySpan{sbyte}, Span{int}, VectorKernelPath)"/> into
    /// <paramref name="dots"/> and the rows' squared norms into <paramref name="norms"/> on <paramref name="path"/>.
    /// </summary>
    internal static void DotNormRows(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> dots, Span<int> norms, VectorKernelPath path)
    {
        if ((long)dots.Length * query.Length > rows.Length || norms.Length < dots.Length)
        {
            throw new ArgumentException($"{dots.Length} rows of {query.Length} codes need {(long)dots.Length * query.Length} codes and as many norms; {rows.Length} codes, {norms.Length} norms given", nameof(rows));
        }

        switch (path)
        {
            case VectorKernelPath.Vector256:
                Vector256Dot.DotNormRows(query, rows, dots, norms);
                break;
            case VectorKernelPath.Vector128:
                Vector128Dot.DotNormRows(query, rows, dots, norms);
                break;
            case VectorKernelPath.Arm64:
                Arm64Dot.DotNormRows(query, rows, dots, norms);
                break;
            case VectorKernelPath.X64:
                X64Dot.DotNormRows(query, rows, dots, norms);
                break;
            default:
                ScalarDot.DotNormRows(query, rows, dots, norms);
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
            ref sbyte row = ref Unsafe.Add(ref first, (nint)r * d);
            Vector256<int> acc = Vector256<int>.Zero;
            for (int i = 0; i < body; i += 32)
            {
                (Vector256<short> ql, Vector256<short> qh) = Vector256.Widen(Vector256.LoadUnsafe(ref q, (nuint)i));
                acc += WidenedProducts(ql, qh, Vector256.LoadUnsafe(ref row, (nuint)i));
            }

            Unsafe.Add(ref result, r) = Vector256.Sum(acc) + DotFromVector128(ref q, ref row, body, d);
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
            ref sbyte row = ref Unsafe.Add(ref first, (nint)r * d);
            Vector128<int> acc = Vector128<int>.Zero;
            for (int i = 0; i < body; i += 16)
            {
                acc = Dp.DotProduct(acc, Vector128.LoadUnsafe(ref q, (nuint)i), Vector128.LoadUnsafe(ref row, (nuint)i));
            }

            Unsafe.Add(ref result, r) = Vector128.Sum(acc) + DotTail(ref q, ref row, body, d);
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
            ref sbyte row = ref Unsafe.Add(ref first, (nint)r * d);
            Vector128<int> acc = Vector128<int>.Zero;
            for (int i = 0; i < body; i += 16)
            {
                Vector128<sbyte> qv = Vector128.LoadUnsafe(ref q, (nuint)i);
                acc = NeonMultiplyAdd(acc, qv, qv.GetLower(), Vector128.LoadUnsafe(ref row, (nuint)i));
            }

            Unsafe.Add(ref result, r) = Vector128.Sum(acc) + DotTail(ref q, ref row, body, d);
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
        if (!Avx2.IsSupported)
        {
            DotRowsVector256(query, rows, results);
            return;
        }

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
            ref sbyte row = ref Unsafe.Add(ref first, (nint)r * d);
            Vector256<int> acc = Vector256<int>.Zero;
            for (int i = 0; i < body; i += 32)
            {
                Vector256<sbyte> qv = Vector256.LoadUnsafe(ref q, (nuint)i);
                acc += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(qv), Avx2.Sign(Vector256.LoadUnsafe(ref row, (nuint)i), qv)), ones);
            }

            Unsafe.Add(ref result, r) = Vector256.Sum(acc) + DotFromVector128(ref q, ref row, body, d);
        }
    }

    // Squared norms of rows: the dot of a row with itself, one pass per row (the rows were just read
    // by the query's dot, so they come from L1).
    private static void SquaredNormRowsScalar(ReadOnlySpan<sbyte> rows, int length, Span<int> results)
    {
        for (int r = 0; r < results.Length; r++)
        {
            ReadOnlySpan<sbyte> row = rows.Slice(r * length, length);
            results[r] = DotScalar(row, row, 0);
        }
    }

    private static void SquaredNormRowsVector128(ReadOnlySpan<sbyte> rows, int length, Span<int> results)
    {
        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        for (int r = 0; r < results.Length; r++)
        {
            ref sbyte row = ref Unsafe.Add(ref first, (nint)r * length);
            results[r] = DotFromVector128(ref row, ref row, 0, length);
        }
    }

    private static void SquaredNormRowsVector256(ReadOnlySpan<sbyte> rows, int length, Span<int> results)
    {
        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        int body = length & ~31;
        for (int r = 0; r < results.Length; r++)
        {
            ref sbyte row = ref Unsafe.Add(ref first, (nint)r * length);
            Vector256<int> acc = Vector256<int>.Zero;
            for (int i = 0; i < body; i += 32)
            {
                (Vector256<short> rl, Vector256<short> rh) = Vector256.Widen(Vector256.LoadUnsafe(ref row, (nuint)i));
                acc += WidenedProducts(rl, rh, Vector256.LoadUnsafe(ref row, (nuint)i));
            }

            results[r] = Vector256.Sum(acc) + DotFromVector128(ref row, ref row, body, length);
        }
    }

    private static void SquaredNormRowsX64(ReadOnlySpan<sbyte> rows, int length, Span<int> results)
    {
        if (!Avx2.IsSupported)
        {
            SquaredNormRowsVector256(rows, length, results);
            return;
        }

        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        int body = length & ~31;
        Vector256<short> ones = Vector256.Create((short)1);
        for (int r = 0; r < results.Length; r++)
        {
            ref sbyte row = ref Unsafe.Add(ref first, (nint)r * length);
            Vector256<int> acc = Vector256<int>.Zero;
            for (int i = 0; i < body; i += 32)
            {
                // |c| * |c| on VPMADDUBSW: pairs sum to at most 2 * 127 * 127, inside a short.
                Vector256<byte> magnitude = Avx2.Abs(Vector256.LoadUnsafe(ref row, (nuint)i));
                acc += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(magnitude, magnitude.AsSByte()), ones);
            }

            results[r] = Vector256.Sum(acc) + DotFromVector128(ref row, ref row, body, length);
        }
    }

    // Dots and norms of four rows per pass on AVX2: each row is loaded once for both products, and the
    // eight accumulators are reduced together with three horizontal adds per four rows instead of a
    // full horizontal sum per row.
    private static void DotNormRowsX64(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> dots, Span<int> norms)
    {
        if (AvxVnni.IsSupported)
        {
            DotNormRowsAvxVnni(query, rows, dots, norms);
        }
        else if (Avx2.IsSupported)
        {
            DotNormRowsAvx2(query, rows, dots, norms);
        }
        else
        {
            DotRowsVector256(query, rows, dots);
            SquaredNormRowsVector256(rows, query.Length, norms);
        }
    }

    /// <summary>
    /// The AVX-VNNI form of <see cref="DotNormRowsAvx2"/>: VPDPBUSD multiplies, sums four adjacent
    /// products and accumulates in one instruction (|q| . sign(q) * row, and |row| . |row|).
    /// </summary>
    internal static void DotNormRowsAvxVnni(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> dots, Span<int> norms)
    {
        int d = query.Length;
        int count = dots.Length;
        int body = d & ~31;
        ref sbyte q = ref MemoryMarshal.GetReference(query);
        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        ref int dot = ref MemoryMarshal.GetReference(dots);
        ref int norm = ref MemoryMarshal.GetReference(norms);
        int r = 0;
        for (; r <= count - 4; r += 4)
        {
            ref sbyte r0 = ref Unsafe.Add(ref first, (nint)r * d);
            ref sbyte r1 = ref Unsafe.Add(ref r0, d);
            ref sbyte r2 = ref Unsafe.Add(ref r1, d);
            ref sbyte r3 = ref Unsafe.Add(ref r2, d);
            Vector256<int> d0 = Vector256<int>.Zero, d1 = Vector256<int>.Zero, d2 = Vector256<int>.Zero, d3 = Vector256<int>.Zero;
            Vector256<int> n0 = Vector256<int>.Zero, n1 = Vector256<int>.Zero, n2 = Vector256<int>.Zero, n3 = Vector256<int>.Zero;
            for (int i = 0; i < body; i += 32)
            {
                Vector256<sbyte> qv = Vector256.LoadUnsafe(ref q, (nuint)i);
                Vector256<byte> qa = Avx2.Abs(qv);
                Vector256<sbyte> v0 = Vector256.LoadUnsafe(ref r0, (nuint)i);
                Vector256<sbyte> v1 = Vector256.LoadUnsafe(ref r1, (nuint)i);
                Vector256<sbyte> v2 = Vector256.LoadUnsafe(ref r2, (nuint)i);
                Vector256<sbyte> v3 = Vector256.LoadUnsafe(ref r3, (nuint)i);
                d0 = AvxVnni.MultiplyWideningAndAdd(d0, qa, Avx2.Sign(v0, qv));
                d1 = AvxVnni.MultiplyWideningAndAdd(d1, qa, Avx2.Sign(v1, qv));
                d2 = AvxVnni.MultiplyWideningAndAdd(d2, qa, Avx2.Sign(v2, qv));
                d3 = AvxVnni.MultiplyWideningAndAdd(d3, qa, Avx2.Sign(v3, qv));
                Vector256<byte> a0 = Avx2.Abs(v0), a1 = Avx2.Abs(v1), a2 = Avx2.Abs(v2), a3 = Avx2.Abs(v3);
                n0 = AvxVnni.MultiplyWideningAndAdd(n0, a0, a0.AsSByte());
                n1 = AvxVnni.MultiplyWideningAndAdd(n1, a1, a1.AsSByte());
                n2 = AvxVnni.MultiplyWideningAndAdd(n2, a2, a2.AsSByte());
                n3 = AvxVnni.MultiplyWideningAndAdd(n3, a3, a3.AsSByte());
            }

            Vector128<int> dotSums = SumFour(d0, d1, d2, d3);
            Vector128<int> normSums = SumFour(n0, n1, n2, n3);
            if (body < d)
            {
                dotSums += Vector128.Create(
                    DotFromVector128(ref q, ref r0, body, d), DotFromVector128(ref q, ref r1, body, d),
                    DotFromVector128(ref q, ref r2, body, d), DotFromVector128(ref q, ref r3, body, d));
                normSums += Vector128.Create(
                    DotFromVector128(ref r0, ref r0, body, d), DotFromVector128(ref r1, ref r1, body, d),
                    DotFromVector128(ref r2, ref r2, body, d), DotFromVector128(ref r3, ref r3, body, d));
            }

            dotSums.StoreUnsafe(ref dot, (nuint)r);
            normSums.StoreUnsafe(ref norm, (nuint)r);
        }

        if (r < count)
        {
            int bytes = r * d;
            DotRowsX64(query, rows[bytes..], dots[r..count]);
            SquaredNormRowsX64(rows[bytes..], d, norms[r..count]);
        }
    }

    /// <summary>The AVX2 form of the fused dot-and-norm kernel (callers check <see cref="Avx2.IsSupported"/>).</summary>
    internal static void DotNormRowsAvx2(ReadOnlySpan<sbyte> query, ReadOnlySpan<sbyte> rows, Span<int> dots, Span<int> norms)
    {

        int d = query.Length;
        int count = dots.Length;
        int body = d & ~31;
        ref sbyte q = ref MemoryMarshal.GetReference(query);
        ref sbyte first = ref MemoryMarshal.GetReference(rows);
        ref int dot = ref MemoryMarshal.GetReference(dots);
        ref int norm = ref MemoryMarshal.GetReference(norms);
        Vector256<short> ones = Vector256.Create((short)1);
        int r = 0;
        for (; r <= count - 4; r += 4)
        {
            ref sbyte r0 = ref Unsafe.Add(ref first, (nint)r * d);
            ref sbyte r1 = ref Unsafe.Add(ref r0, d);
            ref sbyte r2 = ref Unsafe.Add(ref r1, d);
            ref sbyte r3 = ref Unsafe.Add(ref r2, d);
            Vector256<int> d0 = Vector256<int>.Zero, d1 = Vector256<int>.Zero, d2 = Vector256<int>.Zero, d3 = Vector256<int>.Zero;
            Vector256<int> n0 = Vector256<int>.Zero, n1 = Vector256<int>.Zero, n2 = Vector256<int>.Zero, n3 = Vector256<int>.Zero;
            for (int i = 0; i < body; i += 32)
            {
                Vector256<sbyte> qv = Vector256.LoadUnsafe(ref q, (nuint)i);
                Vector256<byte> qa = Avx2.Abs(qv);
                Vector256<sbyte> v0 = Vector256.LoadUnsafe(ref r0, (nuint)i);
                Vector256<sbyte> v1 = Vector256.LoadUnsafe(ref r1, (nuint)i);
                Vector256<sbyte> v2 = Vector256.LoadUnsafe(ref r2, (nuint)i);
                Vector256<sbyte> v3 = Vector256.LoadUnsafe(ref r3, (nuint)i);
                d0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qa, Avx2.Sign(v0, qv)), ones);
                d1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qa, Avx2.Sign(v1, qv)), ones);
                d2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qa, Avx2.Sign(v2, qv)), ones);
                d3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qa, Avx2.Sign(v3, qv)), ones);
                Vector256<byte> a0 = Avx2.Abs(v0), a1 = Avx2.Abs(v1), a2 = Avx2.Abs(v2), a3 = Avx2.Abs(v3);
                n0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a0, a0.AsSByte()), ones);
                n1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a1, a1.AsSByte()), ones);
                n2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a2, a2.AsSByte()), ones);
                n3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a3, a3.AsSByte()), ones);
            }

            Vector128<int> dotSums = SumFour(d0, d1, d2, d3);
            Vector128<int> normSums = SumFour(n0, n1, n2, n3);
            if (body < d)
            {
                dotSums += Vector128.Create(
                    DotFromVector128(ref q, ref r0, body, d), DotFromVector128(ref q, ref r1, body, d),
                    DotFromVector128(ref q, ref r2, body, d), DotFromVector128(ref q, ref r3, body, d));
                normSums += Vector128.Create(
                    DotFromVector128(ref r0, ref r0, body, d), DotFromVector128(ref r1, ref r1, body, d),
                    DotFromVector128(ref r2, ref r2, body, d), DotFromVector128(ref r3, ref r3, body, d));
            }

            dotSums.StoreUnsafe(ref dot, (nuint)r);
            normSums.StoreUnsafe(ref norm, (nuint)r);
        }

        if (r < count)
        {
            int bytes = r * d;
            DotRowsX64(query, rows[bytes..], dots[r..count]);
            SquaredNormRowsX64(rows[bytes..], d, norms[r..count]);
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
