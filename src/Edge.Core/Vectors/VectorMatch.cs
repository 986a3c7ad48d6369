namespace CortexEdge.Core.Vectors;

/// <summary>One search result: the vector's id, the document it belongs to and its exact distance.</summary>
/// <param name="Id">The vector's id within its collection.</param>
/// <param name="DocumentKey">The key of the document the vector was stored with.</param>
/// <param name="Distance">Exact float32 distance to the query under the collection's <see cref="VectorMetric"/>.</param>
public readonly record struct VectorMatch(string Id, string DocumentKey, float Distance);
