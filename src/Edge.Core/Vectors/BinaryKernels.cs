using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace CortexEdge.Core.Vectors;

/// <summary>
/// Hamming distance between 1-bit sign codes (one bit per dimension, packed into 64-bit words):
/// the cheap first pass that narrows a large scan before int8 scoring. Paths: scalar POPCNT per
/// word, a SWAR popcount in Vector128/Vector256 registers, and ARM64 CNT on bytes. All paths
/// return the same count.
/// </summary>
internal static class BinaryKernels
{
    /// <summary>Number of differing bits on the best path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Hamming(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b) => Hamming(a, b, VectorKernelPaths.BestBinary);

    /// <summary>Number of differing bits on <paramref name="path"/>.</summary>
    internal static int Hamming(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, VectorKernelPath path)
    {
        System.Diagnostics.Debug.Assert(a.Length == b.Length, "sign codes must have equal length");
        return path switch
        {
            VectorKernelPath.Vector256 or VectorKernelPath.X64 => HammingVector256(a, b),
            VectorKernelPath.Vector128 => HammingVector128(a, b),
            VectorKernelPath.Arm64 => HammingArm64(a, b),
            _ => HammingScalar(a, b, 0),
        };
    }

    /// <summary>One Hamming path as a type, so the sign-code scan inlines it (see <see cref="Int8Kernels.IDot"/>).</summary>
    internal interface IHamming
    {
        /// <summary>Number of differing bits.</summary>
        static abstract int Hamming(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b);
    }

    /// <summary>The scalar POPCNT path as an <see cref="IHamming"/>.</summary>
    internal readonly struct ScalarHamming : IHamming
    {
        public static int Hamming(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b) => HammingScalar(a, b, 0);
    }

    /// <summary>The Vector256 SWAR path as an <see cref="IHamming"/>.</summary>
    internal readonly struct Vector256Hamming : IHamming
    {
        public static int Hamming(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b) => HammingVector256(a, b);
    }

    /// <summary>The Vector128 SWAR path as an <see cref="IHamming"/>.</summary>
    internal readonly struct Vector128Hamming : IHamming
    {
        public static int Hamming(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b) => HammingVector128(a, b);
    }

    /// <summary>The ARM64 CNT path as an <see cref="IHamming"/>.</summary>
    internal readonly struct Arm64Hamming : IHamming
    {
        public static int Hamming(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b) => HammingArm64(a, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HammingScalar(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, int start)
    {
        int count = 0;
        for (int i = start; i < a.Length; i++)
        {
            count += BitOperations.PopCount(a[i] ^ b[i]);
        }

        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HammingVector128(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        ref ulong ra = ref MemoryMarshal.GetReference(a);
        ref ulong rb = ref MemoryMarshal.GetReference(b);
        int i = 0;
        Vector128<ulong> acc = Vector128<ulong>.Zero;
        for (; i <= a.Length - 2; i += 2)
        {
            acc += PopCountLanes(Vector128.LoadUnsafe(ref ra, (nuint)i) ^ Vector128.LoadUnsafe(ref rb, (nuint)i));
        }

        return (int)Vector128.Sum(acc) + HammingScalar(a, b, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HammingVector256(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        ref ulong ra = ref MemoryMarshal.GetReference(a);
        ref ulong rb = ref MemoryMarshal.GetReference(b);
        int i = 0;
        Vector256<ulong> acc = Vector256<ulong>.Zero;
        for (; i <= a.Length - 4; i += 4)
        {
            acc += PopCountLanes(Vector256.LoadUnsafe(ref ra, (nuint)i) ^ Vector256.LoadUnsafe(ref rb, (nuint)i));
        }

        return (int)Vector256.Sum(acc) + HammingScalar(a, b, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HammingArm64(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        if (!AdvSimd.Arm64.IsSupported)
        {
            return HammingVector128(a, b);
        }

        ref ulong ra = ref MemoryMarshal.GetReference(a);
        ref ulong rb = ref MemoryMarshal.GetReference(b);
        int i = 0;
        Vector128<ushort> acc = Vector128<ushort>.Zero;
        for (; i <= a.Length - 2; i += 2)
        {
            Vector128<byte> x = (Vector128.LoadUnsafe(ref ra, (nuint)i) ^ Vector128.LoadUnsafe(ref rb, (nuint)i)).AsByte();
            // CNT per byte, then pairwise-add into 16-bit lanes: no overflow below 8192 words (524,288 dimensions).
            acc = AdvSimd.AddPairwiseWideningAndAdd(acc, AdvSimd.PopCount(x));
        }

        return (int)AdvSimd.Arm64.AddAcrossWidening(acc).ToScalar() + HammingScalar(a, b, i);
    }

    // SWAR popcount of each 64-bit lane using only shifts, ands and adds (no 64-bit vector multiply,
    // which AVX2 lacks).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> PopCountLanes(Vector128<ulong> x)
    {
        x -= (x >>> 1) & Vector128.Create(0x5555555555555555UL);
        x = (x & Vector128.Create(0x3333333333333333UL)) + ((x >>> 2) & Vector128.Create(0x3333333333333333UL));
        x = (x + (x >>> 4)) & Vector128.Create(0x0F0F0F0F0F0F0F0FUL);
        x += x >>> 8;
        x += x >>> 16;
        x += x >>> 32;
        return x & Vector128.Create(0x7FUL);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> PopCountLanes(Vector256<ulong> x)
    {
        x -= (x >>> 1) & Vector256.Create(0x5555555555555555UL);
        x = (x & Vector256.Create(0x3333333333333333UL)) + ((x >>> 2) & Vector256.Create(0x3333333333333333UL));
        x = (x + (x >>> 4)) & Vector256.Create(0x0F0F0F0F0F0F0F0FUL);
        x += x >>> 8;
        x += x >>> 16;
        x += x >>> 32;
        return x & Vector256.Create(0x7FUL);
    }
}
