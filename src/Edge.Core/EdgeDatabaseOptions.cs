using CortexEdge.Core.Clocks;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>How <see cref="EdgeDatabase.Open"/> opens a database directory.</summary>
public sealed class EdgeDatabaseOptions
{
    /// <summary>When a write is acknowledged; default Group(10 ms). See <see cref="WalDurability"/>.</summary>
    public WalDurability Durability { get; init; } = WalDurability.Group(TimeSpan.FromMilliseconds(10));

    /// <summary>Size of each preallocated WAL segment in bytes (default 16 MiB).</summary>
    public long WalSegmentBytes { get; init; } = 16L << 20;

    /// <summary>Most bytes the WAL may take on disk (default 1 GiB); past it writes fail with WalQuotaExceeded.</summary>
    public long WalQuotaBytes { get; init; } = 1L << 30;

    /// <summary>Longest time an applied write waits before the background checkpoint puts it into SQLite (default 1 s).</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Records waiting that start a checkpoint before <see cref="CheckpointInterval"/> (default 8192).</summary>
    public int CheckpointRecordCount { get; init; } = 8192;

    /// <summary>Most records per checkpoint transaction (default 65536).</summary>
    public int CheckpointBatchRecordCountMax { get; init; } = 65536;

    /// <summary>
    /// Most records applied but not yet checkpointed (held in memory) before writers wait for the
    /// checkpointer (default 16384): bounds memory when writes outpace SQLite for long.
    /// </summary>
    public int CheckpointLagRecordCountMax { get; init; } = 16384;

    /// <summary>Largest accepted lead of a remote op's HLC over local time (default 60 s).</summary>
    public TimeSpan MaxClockSkew { get; init; } = HybridClock.DefaultMaxSkew;

    /// <summary>Wall clock for the HLC; <see cref="TimeProvider.System"/> when null.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>File layer under the WAL (tests inject faults here); the real files when null.</summary>
    public IWalFileSystem? WalFileSystem { get; init; }

    /// <summary>When time-series chunks close (readings and time bounds); see <see cref="TimeSeries.TimeSeriesOptions"/>.</summary>
    public TimeSeries.TimeSeriesOptions TimeSeries { get; init; } = new();

    /// <summary>Create the directory and a new database when absent (default true); false makes a missing database an error.</summary>
    public bool CreateIfMissing { get; init; } = true;

    /// <summary>
    /// Keep this database's own ops in the WAL until sync has uploaded them, from the very first
    /// open (default false). When true and no upload hold exists yet, a persistent retention hold
    /// named <see cref="EdgeDatabase.SyncUploadHoldName"/> is set at the first LSN on open; sync
    /// moves it as the leader acknowledges. Set it on databases that will sync (an edge node written
    /// offline before its first sync); the WAL then grows up to its quota while nothing is uploaded.
    /// </summary>
    public bool RetainUnsyncedOps { get; init; }

    /// <summary>
    /// Collections whose oldest unsent ops may be dropped from the upload queue when the WAL reaches
    /// its quota (default none). With a sync upload hold (see <see cref="RetainUnsyncedOps"/>) pinning
    /// the WAL at the quota, a write brings the checkpoint up to date and, when every own op still
    /// unsent in the oldest segment belongs to one of these collections, moves the hold past that
    /// segment so it is freed: those ops stay applied locally but are never uploaded; they are counted
    /// per collection (<see cref="EdgeDatabaseStats.DroppedOps"/>). When the oldest unsent ops include
    /// any other collection, the write fails with <see cref="EdgeErrorCode.WalQuotaExceeded"/>.
    /// </summary>
    public IReadOnlyCollection<string> DroppableCollections { get; init; } = [];

    /// <summary>
    /// State modules beyond the built-in ones, for code outside Edge.Core (see <see cref="IStateModule"/>).
    /// Each factory is called once per open with the database being opened.
    /// </summary>
    public IReadOnlyList<Func<EdgeDatabase, IStateModule>> AdditionalModules { get; init; } = [];

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(CheckpointInterval, TimeSpan.FromMilliseconds(1), nameof(CheckpointInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(CheckpointRecordCount, 1, nameof(CheckpointRecordCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(CheckpointBatchRecordCountMax, 1, nameof(CheckpointBatchRecordCountMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(CheckpointLagRecordCountMax, 2, nameof(CheckpointLagRecordCountMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxClockSkew, TimeSpan.Zero, nameof(MaxClockSkew));
        ArgumentNullException.ThrowIfNull(DroppableCollections);
        foreach (string collection in DroppableCollections)
        {
            ArgumentException.ThrowIfNullOrEmpty(collection, nameof(DroppableCollections));
        }

        TimeSeries.Validate();
    }
}
