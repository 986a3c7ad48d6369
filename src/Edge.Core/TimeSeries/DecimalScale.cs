namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Detects values that are exactly <c>n / 10^digits</c> for an integer n (what most sensors report:
/// 21.37 °C, 1013.2 hPa). Such chunks store the integer deltas instead of XORed doubles, which takes
/// a few bits per reading where XOR of decimal fractions takes dozens. Bit-exactness is guaranteed
/// by construction: a value qualifies only when <c>(double)n / 10^digits</c> reproduces its bits,
/// which is exactly what the decoder computes.
/// </summary>
internal static class DecimalScale
{
    /// <summary>Most fraction digits tried.</summary>
    public const int DigitsMax = 9;

    /// <summary>Largest |n| allowed, so every n is an exact double.</summary>
    public const long ScaledMax = 1L << 53;

    private static readonly double[] Powers = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

    public static double Power(int digits) => Powers[digits];

    /// <summary>Scales <paramref name="value"/> by 10^<paramref name="digits"/> when that is exact and reversible.</summary>
    public static bool TryScale(double value, int digits, out long scaled)
    {
        scaled = 0;
        double product = value * Powers[digits];
        if (!double.IsFinite(product) || Math.Abs(product) > ScaledMax)
        {
            return false;
        }

        long candidate = (long)Math.Round(product);
        if (BitConverter.DoubleToUInt64Bits(candidate / Powers[digits]) != BitConverter.DoubleToUInt64Bits(value))
        {
            return false; // covers -0.0, NaN, and values with more digits than tried
        }

        scaled = candidate;
        return true;
    }

    /// <summary>The smallest digit count at which every value scales exactly, or -1.</summary>
    /// <param name="values">The values.</param>
    /// <param name="preferDeltaOfDelta">With digits found: whether the scaled values take fewer bits as deltas of deltas (<see cref="DecimalDeltaCost"/>).</param>
    public static int FindDigits(ReadOnlySpan<double> values, out bool preferDeltaOfDelta)
    {
        preferDeltaOfDelta = false;
        int digits = 0;
        foreach (double value in values)
        {
            while (!TryScale(value, digits, out _))
            {
                if (++digits > DigitsMax)
                {
                    return -1;
                }
            }
        }

        // A value that scaled at fewer digits does not always scale at more; check them all again,
        // counting the bits of both delta codings on the way.
        var cost = default(DecimalDeltaCost);
        foreach (double value in values)
        {
            if (!TryScale(value, digits, out long scaled))
            {
                return -1;
            }

            cost.Add(scaled);
        }

        preferDeltaOfDelta = cost.PreferDeltaOfDelta;
        return digits;
    }
}
