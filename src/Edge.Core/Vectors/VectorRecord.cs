namespace CortexEdge.Core.Vectors;

/// <summary>A stored vector as returned by <see cref="VectorCollection.Get"/>: a copy, not a view of the index.</summary>
/// <param name="Id">The vector's id within its collection.</param>
/// <param name="Vector">A copy of the float32 components as they were upserted.</param>
/// <param name="DocumentKey">The key of the document the vector belongs to.</param>
public sealed record VectorRecord(string Id, float[] Vector, string DocumentKey);
