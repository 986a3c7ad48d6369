namespace CortexEdge.Core.Vectors;

/// <summary>Whether a collection keeps 1-bit sign codes for a Hamming first pass before int8 scoring.</summary>
public enum VectorSignCodeMode
{
    /// <summary>
    /// Sign codes for collections of <see cref="VectorCollectionOptions.SignCodeDimensionMin"/> (default
    /// 1024) or more dimensions, where one popcount per 64 dimensions replaces 64 int8 multiply-adds; the
    /// pass runs only on blocks large enough that skipping int8 work outweighs the extra candidates it keeps.
    /// </summary>
    Auto = 0,

    /// <summary>Always keep sign codes and use the first pass on every large enough block.</summary>
    Enabled = 1,

    /// <summary>Never keep sign codes (saves dimension/8 bytes per vector).</summary>
    Disabled = 2,
}
