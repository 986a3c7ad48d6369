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
public readonly record struct VectorCollectionStatistics(
    int Count,
    int Dimension,
    VectorMetric Metric,
    int PartitionCount,
    int DefaultNprobe,
    bool SignCodes,
    long IndexBytes,
    long FileBytes,
    string Int8KernelPath);
