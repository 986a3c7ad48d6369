using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;

namespace CortexEdge.Agent.Tests.Policy;

public sealed class SyncDecisionLogTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly SyncPolicyInputs Inputs = new(BatteryReading.None, NetworkReading.Offline, BacklogSnapshot.Empty);

    private static SyncDecision Decision(SyncAction action, SyncRule rule, int minute) =>
        new(action, action == SyncAction.Defer ? T0.AddMinutes(minute + 5) : null, rule, $"{rule} at {minute}", T0.AddMinutes(minute), Inputs);

    [Fact]
    public void Record_OnlyChangesKeptRepeatsCounted()
    {
        var log = new SyncDecisionLog();
        Assert.Null(log.Latest);
        Assert.True(log.Record(Decision(SyncAction.SyncNow, SyncRule.Unrestricted, 0)));
        Assert.False(log.Record(Decision(SyncAction.SyncNow, SyncRule.Unrestricted, 1)));
        Assert.True(log.Record(Decision(SyncAction.Defer, SyncRule.NoLink, 2)));
        // Same action, a new deferral time: still the same decision.
        Assert.False(log.Record(Decision(SyncAction.Defer, SyncRule.NoLink, 3)));
        // Same action for another reason is a change.
        Assert.True(log.Record(Decision(SyncAction.SyncNow, SyncRule.QuotaNearlyFull, 4)));
        Assert.True(log.Record(Decision(SyncAction.SyncNow, SyncRule.Unrestricted, 5)));

        Assert.Equal(4, log.Count);
        Assert.Equal(4, log.ChangeCount);
        Assert.Equal(6, log.EvaluationCount);
        Assert.Equal(["Unrestricted at 0", "NoLink at 2", "QuotaNearlyFull at 4", "Unrestricted at 5"], log.Snapshot().Select(d => d.Reason));
        Assert.Equal("Unrestricted at 5", log.Latest!.Reason);
    }

    [Fact]
    public void Record_BeyondCapacity_DropsOldestKeepsOrder()
    {
        var log = new SyncDecisionLog(capacity: 3);
        SyncRule[] rules = [SyncRule.Unrestricted, SyncRule.NoLink, SyncRule.LowBattery, SyncRule.MeteredLink, SyncRule.CriticalBattery];
        for (int i = 0; i < rules.Length; i++)
            Assert.True(log.Record(Decision(SyncAction.PriorityOnly, rules[i], i)));
        Assert.Equal(3, log.Count);
        Assert.Equal(2, log.DroppedCount);
        Assert.Equal(5, log.ChangeCount);
        Assert.Equal([SyncRule.LowBattery, SyncRule.MeteredLink, SyncRule.CriticalBattery], log.Snapshot().Select(d => d.Rule));
        Assert.Equal(SyncRule.CriticalBattery, log.Latest!.Rule);
    }

    [Fact]
    public void Record_FromManyThreads_CountersAddUp()
    {
        var log = new SyncDecisionLog(capacity: 16);
        const int Threads = 4;
        const int PerThread = 2000;
        Parallel.For(0, Threads, thread =>
        {
            for (int i = 0; i < PerThread; i++)
                log.Record(Decision(SyncAction.SyncNow, i % 2 == 0 ? SyncRule.Unrestricted : SyncRule.CostlyLinkBacklogOld, i));
        });
        Assert.Equal(Threads * PerThread, log.EvaluationCount);
        Assert.Equal(log.ChangeCount, log.Count + log.DroppedCount);
        Assert.Equal(16, log.Snapshot().Length);
        SyncDecision[] snapshot = log.Snapshot();
        for (int i = 1; i < snapshot.Length; i++)
            Assert.False(snapshot[i].IsSameDecisionAs(snapshot[i - 1]), "two equal decisions in a row");
    }

    [Fact]
    public void Constructor_ZeroCapacity_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyncDecisionLog(0));
    }
}
