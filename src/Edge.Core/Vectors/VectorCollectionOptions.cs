namespace CortexEdge.Core.Vectors;

/// <summary>
/// Fixed shape and tuning of a vector collection. <see cref="Dimension"/> and <see cref="Metric"/>
/// cannot change after creation; the tuning values can be changed by reopening.
/// </summary>
public sealed class VectorCollectionOptions
{
    /// <summary>Largest supported dimension.</summary>
    public const int DimensionMax = 4096;

    /// <summary>Components per vector, 1 to <see cref="DimensionMax"/>.</summary>
    public required int Dimension { get; init; }

    /// <summary>Distance measure; default <see cref="VectorMetric.Cosine"/>.</summary>
    public VectorMetric Metric { get; init; } = VectorMetric.Cosine;

    /// <summary>
    /// Vector count at which the collection switches from one flat partition to k-means partitions
    /// (searched by their nearest <see cref="VectorSearchOptions.Nprobe"/>). Default 20,000: below it a
    /// full int8 scan takes well under a millisecond per thousand vectors on a board, and exact recall
    /// matters more than speed.
    /// </summary>
    public int PartitionThreshold { get; init; } = 20_000;

    /// <summary>Partitions to train once partitioned; 0 (default) picks about the square root of the count.</summary>
    public int PartitionCount { get; init; }

    /// <summary>Partitions a search probes when the query does not say; 0 (default) picks 1/12 of them, at least 8.</summary>
    public int Nprobe { get; init; }

    /// <summary>
    /// Candidates kept by quantized distance per result wanted (k * Oversample are rescored exactly);
    /// default 4.
    /// </summary>
    public int Oversample { get; init; } = 4;

    /// <summary>Whether to keep 1-bit sign codes for a first pass; default <see cref="VectorSignCodeMode.Auto"/>.</summary>
    public VectorSignCodeMode SignCodes { get; init; } = VectorSignCodeMode.Auto;

    /// <summary>
    /// Dimension from which <see cref="VectorSignCodeMode.Auto"/> keeps sign codes; default 1024. Below it
    /// the int8 pass with SDOT (ARM64) or VPMADDUBSW (x64) is cheap enough that the Hamming pass and its
    /// extra heap cost about what they save (measured at 768 dimensions: no gain), while the codes cost
    /// dimension/8 bytes per vector.
    /// </summary>
    public int SignCodeDimensionMin { get; init; } = 1024;

    internal void Validate()
    {
        if (Dimension is < 1 or > DimensionMax)
        {
            throw new EdgeException(EdgeErrorCode.VectorInvalid, $"vector dimension {Dimension} is outside 1..{DimensionMax}");
        }

        if (!Enum.IsDefined(Metric))
        {
            throw new EdgeException(EdgeErrorCode.VectorInvalid, $"vector metric {(int)Metric} is not defined");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(PartitionThreshold, 1, nameof(PartitionThreshold));
        ArgumentOutOfRangeException.ThrowIfNegative(PartitionCount, nameof(PartitionCount));
        ArgumentOutOfRangeException.ThrowIfNegative(Nprobe, nameof(Nprobe));
        ArgumentOutOfRangeException.ThrowIfLessThan(Oversample, 1, nameof(Oversample));
        ArgumentOutOfRangeException.ThrowIfLessThan(SignCodeDimensionMin, 64, nameof(SignCodeDimensionMin));
    }
}
