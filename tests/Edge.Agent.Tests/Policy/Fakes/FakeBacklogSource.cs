using CortexEdge.Agent.Policy;

namespace CortexEdge.Agent.Tests.Policy.Fakes;

/// <summary>A backlog the test sets directly (the sync layer implements the real one).</summary>
internal sealed class FakeBacklogSource : IBacklogSource
{
    public BacklogSnapshot Current { get; set; } = BacklogSnapshot.Empty;

    public BacklogSnapshot Read() => Current;

    /// <summary>A backlog with <paramref name="oldest"/> on normal data and quota use <paramref name="quotaFraction"/> of 100 MB.</summary>
    public static BacklogSnapshot Of(TimeSpan? oldest, double quotaFraction, long highOps = 10)
    {
        const long Quota = 100_000_000;
        return new BacklogSnapshot(
            [
                new BacklogPriorityStats(SyncPriority.High, highOps, highOps * 100, highOps > 0 ? TimeSpan.FromMinutes(1) : null),
                new BacklogPriorityStats(SyncPriority.Normal, 1000, 200_000, oldest),
            ],
            (long)(quotaFraction * Quota), Quota);
    }
}
