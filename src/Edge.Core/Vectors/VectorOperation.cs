namespace CortexEdge.Core.Vectors;

/// <summary>
/// One decoded vector op (the body of a <see cref="Wal.WalRecordKind.Vector"/> record, after the
/// operation header). <see cref="Vector"/> is set for upserts only; <see cref="DocumentKey"/> too.
/// </summary>
internal sealed record VectorOperation(
    VectorOperationKind Kind,
    string Collection,
    string Id,
    string? DocumentKey,
    VectorMetric Metric,
    int Dimension,
    float[]? Vector);
