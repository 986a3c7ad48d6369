using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace CortexEdge.Core.Vectors;

/// <summary>
/// Which instruction path a distance kernel runs on. Production code uses the best path the CPU
/// has (<see cref="VectorKernelPaths"/>); tests and benchmarks pick each path explicitly so every
/// SIMD path is checked against <see cref="Scalar"/>.
/// </summary>
internal enum VectorKernelPath
{
    /// <summary>Plain loops; the reference every other path must match.</summary>
    Scalar,

    /// <summary>128-bit <see cref="Vector128"/> operations (SSE on x64, NEON on ARM64).</summary>
    Vector128,

    /// <summary>256-bit <see cref="Vector256"/> operations (AVX2 on x64; emulated, so unused, on ARM64).</summary>
    Vector256,

    /// <summary>
    /// ARM64 instructions that have no portable equivalent: SDOT/UDOT (<see cref="Dp"/>) for int8 codes
    /// (without the dot-product extension, the scan's multi-row kernel uses NEON SMULL/SMLAL2/SADALP)
    /// and CNT (<see cref="AdvSimd.PopCount(Vector128{byte})"/>) for sign codes. Float kernels use Vector128 here.
    /// </summary>
    Arm64,

    /// <summary>
    /// x64 AVX2 for int8 codes: VPMADDUBSW on |a| and sign(a)*b, four bytes to a 32-bit lane in two
    /// instructions where the portable path needs widening steps. Float and sign-code kernels use
    /// Vector256 here.
    /// </summary>
    X64,
}

/// <summary>Which <see cref="VectorKernelPath"/> values run on this CPU, and the best of them.</summary>
internal static class VectorKernelPaths
{
    /// <summary>Best path for float32 kernels.</summary>
    internal static readonly VectorKernelPath BestFloat = Pick(arm64: false);

    /// <summary>
    /// Best path for int8 kernels: on ARM64 SDOT where the board has the dot-product extension, else
    /// NEON widening multiply-add (SMULL/SMLAL2/SADALP); AVX2 on x64.
    /// </summary>
    internal static readonly VectorKernelPath BestInt8 =
        AdvSimd.Arm64.IsSupported ? VectorKernelPath.Arm64
        : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? VectorKernelPath.X64
        : Pick(arm64: false);

    /// <summary>
    /// Best path for sign-code (Hamming) kernels: the scalar POPCNT loop on x64 (one instruction per
    /// 64 bits beats a SWAR popcount in vector registers), CNT on ARM64.
    /// </summary>
    internal static readonly VectorKernelPath BestBinary =
        AdvSimd.Arm64.IsSupported ? VectorKernelPath.Arm64
        : System.Runtime.Intrinsics.X86.Popcnt.X64.IsSupported ? VectorKernelPath.Scalar
        : Pick(arm64: false);

    /// <summary>True when <paramref name="path"/> can run here for float32 and sign-code kernels.</summary>
    internal static bool IsSupported(VectorKernelPath path) => path switch
    {
        VectorKernelPath.Scalar => true,
        VectorKernelPath.Vector128 => Vector128.IsHardwareAccelerated,
        VectorKernelPath.Vector256 => Vector256.IsHardwareAccelerated,
        VectorKernelPath.Arm64 => AdvSimd.Arm64.IsSupported,
        VectorKernelPath.X64 => System.Runtime.Intrinsics.X86.Avx2.IsSupported,
        _ => false,
    };

    private static VectorKernelPath Pick(bool arm64) =>
        arm64 && AdvSimd.Arm64.IsSupported ? VectorKernelPath.Arm64
        : Vector256.IsHardwareAccelerated ? VectorKernelPath.Vector256
        : Vector128.IsHardwareAccelerated ? VectorKernelPath.Vector128
        : VectorKernelPath.Scalar;
}
