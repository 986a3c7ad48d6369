namespace CortexEdge.Core.Vectors;

/// <summary>
/// Per-query settings and filters. Zero values mean "the collection's default". An instance may be
/// shared by concurrent searches; <see cref="DocumentPredicate"/> must then be thread-safe, and it
/// is called from several threads within one search when the search runs in parallel.
/// </summary>
public sealed class VectorSearchOptions
{
    /// <summary>Shared instance with every default.</summary>
    public static VectorSearchOptions Default { get; } = new();

    /// <summary>Partitions to probe in partitioned mode; 0 = <see cref="VectorCollectionOptions.Nprobe"/>.</summary>
    public int Nprobe { get; init; }

    /// <summary>Candidates per result rescored exactly; 0 = <see cref="VectorCollectionOptions.Oversample"/>.</summary>
    public int Oversample { get; init; }

    /// <summary>Only vectors whose document key starts with this (ordinal) match; null = all.</summary>
    public string? KeyPrefix { get; init; }

    /// <summary>
    /// Only vectors whose document key this returns true for match (for example a document field
    /// equality check supplied by the database); null = all. Called only for candidates that would
    /// enter the result set, so it runs far fewer times than there are vectors.
    /// </summary>
    public Func<string, bool>? DocumentPredicate { get; init; }

    /// <summary>
    /// Threads one query may use: -1 (default) = all cores; 1 = the calling thread only. Small scans
    /// stay on the calling thread whatever this says.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>
    /// The int8 kernel path the scan runs on; null (default) = the best this CPU has. Tests use it to
    /// run the same search on the scalar, Vector128 and native paths and compare.
    /// </summary>
    internal VectorKernelPath? Int8Path { get; init; }
}
