using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>Timing, window and limit settings shared by node and leader sessions. Immutable; share one instance.</summary>
public sealed class SyncSessionOptions
{
    /// <summary>The defaults.</summary>
    public static SyncSessionOptions Default { get; } = new();

    /// <summary>Frame and op size limits.</summary>
    public SyncFrameLimits Limits { get; init; } = SyncFrameLimits.Default;

    /// <summary>Upload frames in flight beyond the last acknowledgement.</summary>
    public int UploadWindowFrames { get; init; } = 8;

    /// <summary>Download batches or snapshot chunks the leader sends per pull.</summary>
    public int FramesPerPull { get; init; } = 8;

    /// <summary>How long a node waits for an acknowledgement or a pull answer before retrying.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>First retry delay after a failure; doubles per consecutive failure up to <see cref="RetryDelayMax"/>, with jitter.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest retry delay.</summary>
    public TimeSpan RetryDelayMax { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A resend request for the same position is sent or honoured at most once per this interval.</summary>
    public TimeSpan ResendInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Node: pull this often while idle as a safety net for a lost "new data" notice; null: never.</summary>
    public TimeSpan? PollInterval { get; init; }

    /// <summary>Leader: refuse ops whose HLC is further ahead of its clock than this.</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Leader: a node not heard from for this long no longer holds back tombstone purge; it is re-bootstrapped from a snapshot when it returns.</summary>
    public TimeSpan TombstoneHorizon { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Leader: names of the fleet's nodes, known before they first sync (the fleet manifest). Each
    /// holds back tombstone purge like a node already seen, so a node that wrote offline and has
    /// not synced yet cannot bring a purged delete back. Empty: only nodes seen so far count.
    /// </summary>
    public IReadOnlyCollection<string> FleetMembers { get; init; } = [];

    /// <summary>Leader: how often to consider purging tombstones.</summary>
    public TimeSpan PurgeInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Leader: bootstrap a new node (download cursor 0) from a snapshot rather than from the log.
    /// Default true. A leader that keeps its whole log (<see cref="EdgeDatabaseLeaderStore"/> with no
    /// <see cref="EdgeDatabaseLeaderStore.LogRetentionRecords"/>) may set it to false to serve new nodes
    /// from the log; nodes behind a pruned log or the tombstone purge always get a snapshot.
    /// </summary>
    public bool SnapshotNewNodes { get; init; } = true;

    /// <summary>Leader: snapshot chunk size in bytes (kept below the frame limit).</summary>
    public int SnapshotChunkBytes { get; init; } = 128 * 1024;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        Limits.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(UploadWindowFrames, 1, nameof(UploadWindowFrames));
        ArgumentOutOfRangeException.ThrowIfLessThan(FramesPerPull, 1, nameof(FramesPerPull));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ResponseTimeout, TimeSpan.Zero, nameof(ResponseTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RetryDelay, TimeSpan.Zero, nameof(RetryDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryDelayMax, RetryDelay, nameof(RetryDelayMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(SnapshotChunkBytes, 64, nameof(SnapshotChunkBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(SnapshotChunkBytes, Limits.FrameBytesMax - SyncFrameCodec.FrameOverheadBytesMax, nameof(SnapshotChunkBytes));
    }

    /// <summary>The delay before retry number <paramref name="attempt"/> (1-based): exponential, capped, with deterministic jitter in [50%, 100%].</summary>
    internal TimeSpan Backoff(int attempt, ulong jitterKey)
    {
        double factor = Math.Pow(2, Math.Min(attempt - 1, 30));
        double ms = Math.Min(RetryDelay.TotalMilliseconds * factor, RetryDelayMax.TotalMilliseconds);
        ulong h = (jitterKey ^ (ulong)attempt) * 0x9E37_79B9_7F4A_7C15ul;
        double jitter = 0.5 + ((h >> 11) / (double)(1ul << 53) * 0.5);
        return TimeSpan.FromMilliseconds(Math.Ceiling(ms * jitter));
    }
}
