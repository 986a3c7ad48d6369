namespace CortexEdge.Core.Vectors;

/// <summary>
/// Int8 scalar quantization with one symmetric scale per vector, and 1-bit sign codes.
/// </summary>
/// <remarks>
/// A vector (in the index: its residual from its partition's centroid) becomes codes c[i] =
/// round(x[i] / s) with s = max|x[i]| / 127, so x ≈ s * c and codes stay in [-127, 127]. A
/// per-vector scale needs no training and no global statistics, so an upsert never invalidates
/// other codes, and the product of two vectors is s_a * s_b * (integer dot of codes): one int8 dot
/// kernel (SDOT on ARM) serves every metric. Per-dimension scales would fit skewed dimensions
/// better but need a trained range that drifts as data arrives, and turn the kernel into
/// float-times-int8. Quantizing residuals from the centroid rather than raw vectors removes the
/// common offset that would otherwise waste most of the 8 bits. See docs/vectors.md.
/// </remarks>
internal static class ScalarQuantizer
{
    /// <summary>Largest code magnitude; -128 is never produced (see <see cref="Int8Kernels"/>).</summary>
    internal const int CodeMax = 127;

    /// <summary>Number of 64-bit words a sign code of <paramref name="dimension"/> bits takes.</summary>
    internal static int SignWordCount(int dimension) => (dimension + 63) >> 6;

    /// <summary>
    /// Quantizes <paramref name="source"/> - <paramref name="center"/> into <paramref name="codes"/>
    /// and returns the scale s (0 when the residual is all zeros). Spans have equal length.
    /// </summary>
    internal static float QuantizeResidual(ReadOnlySpan<float> source, ReadOnlySpan<float> center, Span<sbyte> codes)
    {
        System.Diagnostics.Debug.Assert(source.Length == center.Length && source.Length == codes.Length, "quantizer spans must have equal length");
        float maxAbs = MaxAbsResidual(source, center);

        if (maxAbs == 0f)
        {
            codes.Clear();
            return 0f;
        }

        float scale = maxAbs / CodeMax;
        EncodeResidual(source, center, CodeMax / maxAbs, codes);

        return scale;
    }

    /// <summary>
    /// Like <see cref="QuantizeResidual"/>, but the scale is stored in 16 bits (<see cref="ScaleFromBits"/>):
    /// s = max|x - c| / 127 rounded up to the next bfloat16 (the upper half of a float32: 8 exponent
    /// bits, 7 mantissa bits), and the codes are computed with that rounded scale, so s * c is the
    /// quantized vector exactly and the codes still fit [-127, 127]. The step is at most 2^-7 coarser.
    /// </summary>
    internal static ushort QuantizeResidualCompactScale(ReadOnlySpan<float> source, ReadOnlySpan<float> center, Span<sbyte> codes)
    {
        System.Diagnostics.Debug.Assert(source.Length == center.Length && source.Length == codes.Length, "quantizer spans must have equal length");
        float maxAbs = MaxAbsResidual(source, center);

        uint bits = BitConverter.SingleToUInt32Bits(maxAbs / CodeMax);
        // Round up (positive finite floats order like their bits): a scale never below the exact one.
        uint compact = (bits >> 16) + ((bits & 0xFFFF) != 0 ? 1u : 0u);
        float scale = ScaleFromBits((ushort)compact);
        if (scale == 0f)
        {
            codes.Clear();
            return 0;
        }

        EncodeResidual(source, center, 1f / scale, codes);

        return (ushort)compact;
    }

    /// <summary>max |source[i] - center[i]| (0 for an all-zero residual).</summary>
    private static float MaxAbsResidual(ReadOnlySpan<float> source, ReadOnlySpan<float> center)
    {
        float maxAbs = 0f;
        for (int i = 0; i < source.Length; i++)
        {
            maxAbs = MathF.Max(maxAbs, MathF.Abs(source[i] - center[i]));
        }

        return maxAbs;
    }

    /// <summary>codes[i] = round((source[i] - center[i]) * inverse), clamped to [-127, 127].</summary>
    private static void EncodeResidual(ReadOnlySpan<float> source, ReadOnlySpan<float> center, float inverse, Span<sbyte> codes)
    {
        for (int i = 0; i < source.Length; i++)
        {
            float q = MathF.Round((source[i] - center[i]) * inverse);
            codes[i] = (sbyte)Math.Clamp(q, -CodeMax, CodeMax);
        }
    }

    /// <summary>The scale stored as <paramref name="bits"/> by <see cref="QuantizeResidualCompactScale"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static float ScaleFromBits(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Quantizes <paramref name="source"/> itself (no center); returns the scale.</summary>
    internal static float Quantize(ReadOnlySpan<float> source, Span<sbyte> codes)
    {
        System.Diagnostics.Debug.Assert(source.Length == codes.Length, "quantizer spans must have equal length");
        float maxAbs = 0f;
        for (int i = 0; i < source.Length; i++)
        {
            maxAbs = MathF.Max(maxAbs, MathF.Abs(source[i]));
        }

        if (maxAbs == 0f)
        {
            codes.Clear();
            return 0f;
        }

        float inverse = CodeMax / maxAbs;
        for (int i = 0; i < source.Length; i++)
        {
            codes[i] = (sbyte)Math.Clamp(MathF.Round(source[i] * inverse), -CodeMax, CodeMax);
        }

        return maxAbs / CodeMax;
    }

    /// <summary>Reconstructs s * codes into <paramref name="destination"/> (tests and diagnostics).</summary>
    internal static void Dequantize(ReadOnlySpan<sbyte> codes, float scale, Span<float> destination)
    {
        for (int i = 0; i < codes.Length; i++)
        {
            destination[i] = codes[i] * scale;
        }
    }

    /// <summary>
    /// Writes the sign code of <paramref name="source"/> - <paramref name="center"/>: bit i of
    /// word i/64 is set when the residual's component i is positive. Unused high bits are zero.
    /// </summary>
    internal static void SignBits(ReadOnlySpan<float> source, ReadOnlySpan<float> center, Span<ulong> bits)
    {
        System.Diagnostics.Debug.Assert(bits.Length == SignWordCount(source.Length), "sign code has the wrong word count");
        bits.Clear();
        for (int i = 0; i < source.Length; i++)
        {
            if (source[i] - center[i] > 0f)
            {
                bits[i >> 6] |= 1UL << (i & 63);
            }
        }
    }
}
