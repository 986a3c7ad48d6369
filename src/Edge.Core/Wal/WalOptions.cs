namespace CortexEdge.Core.Wal;

/// <summary>Settings of a <see cref="WriteAheadLog"/>, fixed when it is opened.</summary>
public sealed class WalOptions
{
    /// <summary>Smallest allowed <see cref="SegmentBytes"/>.</summary>
    public const long SegmentBytesMin = 4096;

    /// <summary>Largest allowed <see cref="SegmentBytes"/> (one mapping is addressed with 32-bit offsets).</summary>
    public const long SegmentBytesMax = 1L << 30;

    /// <summary>
    /// Group commit: how long the flusher leaves a forming cohort to its leader before flushing it
    /// itself (a cohort that does not come back whole). Internal: tests widen it to make the race
    /// between the two deterministic.
    /// </summary>
    internal TimeSpan GroupCohortWait { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>When appends are acknowledged. Default: <see cref="WalDurability.Group"/>(10 ms).</summary>
    public WalDurability Durability { get; init; } = WalDurability.Group(TimeSpan.FromMilliseconds(10));

    /// <summary>Size of each segment file in bytes, preallocated when the segment is created. Default 16 MiB; a multiple of 8 between <see cref="SegmentBytesMin"/> and <see cref="SegmentBytesMax"/>.</summary>
    public long SegmentBytes { get; init; } = 16L << 20;

    /// <summary>The most disk the WAL's segments may take, in bytes. Default 1 GiB. At least two segments. An append that needs a segment past it fails with <see cref="EdgeErrorCode.WalQuotaExceeded"/>.</summary>
    public long QuotaBytes { get; init; } = 1L << 30;

    /// <summary>The replica id written in new segment headers.</summary>
    public ulong ReplicaId { get; init; }

    /// <summary>The file layer; null means real files (<see cref="LinuxWalFileSystem"/>). Tests pass a fault-injecting one.</summary>
    public IWalFileSystem? FileSystem { get; init; }

    internal void Validate()
    {
        if (SegmentBytes < SegmentBytesMin || SegmentBytes > SegmentBytesMax || SegmentBytes % WalRecordFormat.Alignment != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentBytes), SegmentBytes, $"WAL segment size must be a multiple of {WalRecordFormat.Alignment} between {SegmentBytesMin} and {SegmentBytesMax} bytes");
        }

        if (QuotaBytes < 2 * SegmentBytes)
        {
            // The active segment is never trimmed: with room for one segment only, a full log could never move on.
            throw new ArgumentOutOfRangeException(nameof(QuotaBytes), QuotaBytes, $"WAL quota must hold at least two segments of {SegmentBytes} bytes");
        }

        if (Durability.Mode is WalDurabilityMode.Periodic or WalDurabilityMode.Group && Durability.Interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Durability), Durability, "Periodic and Group durability need a positive interval");
        }
    }
}
