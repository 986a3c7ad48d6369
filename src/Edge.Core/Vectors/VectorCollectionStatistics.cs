namespace CortexEdge.Core.Vectors;

/// <summary>A snapshot of a collection's size and shape, for `vec stats` and monitoring.</summary>
/// <param name="Count">Vectors stored.</param>
/// <param name="Dimension">Components per vector.</param>
/// <param name="Metric">Distance measure.</param>
/// <param name="PartitionCount">Coarse partitions (1 = flat scan).</param>
/// <param name="DefaultNprobe">Partitions a search probes by default.</param>
/// <param name="SignCodes">Whether 1-bit sign codes are kept for a first pass.</param>
/// <param name="IndexBytes">Managed bytes held by the quantized index (codes, scales, slot tables), by capacity.</param>
/// <param name="FileBytes">Bytes of the memory-mapped float32 file on disk.</param>
/// <param name="Int8KernelPath">Instruction path of the int8 kernels on this CPU.</param>
/// <param name="LoadedFromIndexFile">True when the index was mapped from its own files at open; false when it was built (new, or rebuilt from the state store).</param>
/// <param name="IndexFileProblem">Why the index files could not be used at open and the index was rebuilt from the state store (missing, failed checksum, not closed cleanly); null when they were used or the collection is new.</param>
public readonly record struct VectorCollectionStatistics(
    int Count,
    int Dimension,
    VectorMetric Metric,
    int PartitionCount,
    int DefaultNprobe,
    bool SignCodes,
    long IndexBytes,
    long FileBytes,
    string Int8KernelPath,
    bool LoadedFromIndexFile = false,
    string? IndexFileProblem = null);
