namespace CortexEdge.Agent.Policy;

/// <summary>
/// The unsent local writes at one moment, per priority, and how full the offline queue (the WAL,
/// bounded by a quota) is. Supplied by the sync layer through <see cref="IBacklogSource"/>.
/// </summary>
/// <param name="Priorities">Stats per priority; priorities with nothing unsent may be omitted.</param>
/// <param name="QuotaUsedBytes">Bytes of the offline-queue quota in use.</param>
/// <param name="QuotaBytes">The quota in bytes; 0 when there is no quota (never "nearly full").</param>
public sealed record BacklogSnapshot(IReadOnlyList<BacklogPriorityStats> Priorities, long QuotaUsedBytes, long QuotaBytes)
{
    /// <summary>Nothing unsent, no quota in use.</summary>
    public static BacklogSnapshot Empty { get; } = new([], 0, 0);

    /// <summary>Fraction of the quota in use, 0-1 (more when over quota); 0 without a quota.</summary>
    public double QuotaFraction => QuotaBytes <= 0 ? 0 : (double)Math.Max(0, QuotaUsedBytes) / QuotaBytes;

    /// <summary>Unsent operations over every priority.</summary>
    public long TotalOperations
    {
        get
        {
            long total = 0;
            foreach (BacklogPriorityStats stats in Priorities)
                total += stats.Operations;
            return total;
        }
    }

    /// <summary>Unsent bytes over every priority.</summary>
    public long TotalBytes
    {
        get
        {
            long total = 0;
            foreach (BacklogPriorityStats stats in Priorities)
                total += stats.Bytes;
            return total;
        }
    }

    /// <summary>The age of the oldest unsent operation of any priority, or <c>null</c> when nothing waits.</summary>
    public TimeSpan? OldestUnsentAge
    {
        get
        {
            TimeSpan? oldest = null;
            foreach (BacklogPriorityStats stats in Priorities)
            {
                if (stats.OldestUnsentAge is TimeSpan age && (oldest is null || age > oldest))
                    oldest = age;
            }
            return oldest;
        }
    }

    /// <summary>The stats of <paramref name="priority"/> (zero when absent).</summary>
    public BacklogPriorityStats For(SyncPriority priority)
    {
        foreach (BacklogPriorityStats stats in Priorities)
        {
            if (stats.Priority == priority)
                return stats;
        }
        return new BacklogPriorityStats(priority, 0, 0, null);
    }

    /// <summary>A one-line description for decision reasons.</summary>
    public override string ToString()
    {
        string quota = QuotaBytes > 0 ? $", quota {QuotaFraction * 100:0.#}% of {QuotaBytes} bytes" : "";
        string oldest = OldestUnsentAge is TimeSpan age ? $", oldest unsent {FormatAge(age)}" : "";
        return $"backlog {TotalOperations} ops / {TotalBytes} bytes{oldest}{quota}";
    }

    internal static string FormatAge(TimeSpan age) =>
        age.TotalHours >= 1 ? $"{age.TotalHours:0.#} h" : age.TotalMinutes >= 1 ? $"{age.TotalMinutes:0.#} min" : $"{age.TotalSeconds:0} s";
}
