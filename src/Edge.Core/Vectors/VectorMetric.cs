namespace CortexEdge.Core.Vectors;

/// <summary>
/// How a vector collection measures distance. Every metric is reported as a distance: smaller is
/// closer, and search results come in ascending distance.
/// </summary>
public enum VectorMetric
{
    /// <summary>1 - cos(a, b), in [0, 2]. Zero vectors are rejected (they have no direction).</summary>
    Cosine = 0,

    /// <summary>-(a . b): the negated inner product, for embeddings trained for maximum inner product.</summary>
    Dot = 1,

    /// <summary>Squared Euclidean distance, sum of (a[i] - b[i])^2 (not its square root).</summary>
    L2 = 2,
}
