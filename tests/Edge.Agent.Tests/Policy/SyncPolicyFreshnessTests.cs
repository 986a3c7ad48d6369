using CortexEdge.Agent.Policy;
using static CortexEdge.Agent.Tests.Policy.Fakes.FakeBatterySource;
using static CortexEdge.Agent.Tests.Policy.Fakes.FakeNetworkSource;

namespace CortexEdge.Agent.Tests.Policy;

/// <summary>
/// The freshness bounds: when a burst is due, when the engine must decide again, and how the bound
/// ranks against the other rules: it beats a low battery and a costly link, not a critical battery,
/// a missing link or a nearly full queue (defaults: high 1 min, normal 1 h, low 6 h, burst 10 s ahead).
/// </summary>
public sealed class SyncPolicyFreshnessTests
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly NetworkReading Ethernet = Link(NetworkInterfaceKind.Ethernet);
    private static readonly NetworkReading Cellular = Link(NetworkInterfaceKind.Cellular, metered: true);
    private static readonly BatteryReading Healthy = Discharging(80);

    private static BacklogSnapshot Backlog(TimeSpan? high = null, TimeSpan? normal = null, TimeSpan? low = null) => new(
        [
            new BacklogPriorityStats(SyncPriority.High, high is null ? 0 : 3, high is null ? 0 : 300, high),
            new BacklogPriorityStats(SyncPriority.Normal, normal is null ? 0 : 500, normal is null ? 0 : 50_000, normal),
            new BacklogPriorityStats(SyncPriority.Low, low is null ? 0 : 20, low is null ? 0 : 90_000, low),
        ],
        0, 0);

    private static SyncDecision Decide(BatteryReading battery, NetworkReading network, BacklogSnapshot backlog, SyncPolicyOptions? options = null) =>
        new SyncPolicyEngine(options).Decide(new SyncPolicyInputs(battery, network, backlog), T0);

    [Fact]
    public void NothingPending_NoBurstAndNoDecisionTime()
    {
        SyncDecision decision = Decide(Healthy, Ethernet, BacklogSnapshot.Empty);
        Assert.Equal(SyncAction.SyncNow, decision.Action);
        Assert.False(decision.BurstDue);
        Assert.Null(decision.NextDecisionAt);
    }

    [Fact]
    public void NothingPending_DeferNeedsNoTimerEither()
    {
        SyncDecision decision = Decide(Healthy, AllDown(), BacklogSnapshot.Empty);
        Assert.Equal(SyncAction.Defer, decision.Action);
        Assert.Null(decision.NextDecisionAt);
    }

    [Fact]
    public void PendingBelowBound_BatchesUntilBoundMinusLead()
    {
        SyncDecision decision = Decide(Healthy, Ethernet, Backlog(normal: TimeSpan.FromMinutes(10), low: TimeSpan.FromMinutes(30)));
        Assert.Equal(SyncRule.Unrestricted, decision.Rule);
        Assert.False(decision.BurstDue);
        Assert.Equal(T0 + TimeSpan.FromMinutes(50) - TimeSpan.FromSeconds(10), decision.NextDecisionAt);
    }

    [Fact]
    public void EarliestPriorityDrivesTheDecisionTime()
    {
        SyncDecision decision = Decide(Healthy, Ethernet, Backlog(high: TimeSpan.FromSeconds(20), normal: TimeSpan.FromMinutes(59)));
        Assert.False(decision.BurstDue);
        Assert.Equal(T0 + TimeSpan.FromSeconds(30), decision.NextDecisionAt);
    }

    [Fact]
    public void HighAtBoundMinusLead_BurstsOnAGoodLink()
    {
        SyncDecision justBefore = Decide(Healthy, Ethernet, Backlog(high: TimeSpan.FromSeconds(49), normal: TimeSpan.FromMinutes(1)));
        Assert.False(justBefore.BurstDue);
        Assert.Equal(T0 + TimeSpan.FromSeconds(1), justBefore.NextDecisionAt);

        SyncDecision due = Decide(Healthy, Ethernet, Backlog(high: TimeSpan.FromSeconds(50), normal: TimeSpan.FromMinutes(1)));
        Assert.True(due.BurstDue);
        Assert.Equal(SyncAction.SyncNow, due.Action); // normal data rides along: one wake-up for both
        Assert.Equal(T0, due.NextDecisionAt);
    }

    [Fact]
    public void HighDueOnMeteredLink_BurstsPriorityOnly()
    {
        SyncDecision decision = Decide(Healthy, Cellular, Backlog(high: TimeSpan.FromMinutes(2), normal: TimeSpan.FromMinutes(10)));
        Assert.Equal(SyncAction.PriorityOnly, decision.Action);
        Assert.Equal(SyncRule.MeteredLink, decision.Rule);
        Assert.True(decision.BurstDue);
    }

    [Fact]
    public void NormalNearBoundOnMeteredLink_ForcesOneFullBurst()
    {
        TimeSpan due = TimeSpan.FromHours(1) - TimeSpan.FromSeconds(10);
        SyncDecision before = Decide(Healthy, Cellular, Backlog(normal: due - TimeSpan.FromSeconds(1)));
        Assert.Equal(SyncRule.MeteredLink, before.Rule);
        Assert.False(before.BurstDue);
        Assert.Equal(T0 + TimeSpan.FromSeconds(1), before.NextDecisionAt);

        SyncDecision forced = Decide(Healthy, Cellular, Backlog(normal: due));
        Assert.Equal(SyncAction.SyncNow, forced.Action);
        Assert.Equal(SyncRule.FreshnessBound, forced.Rule);
        Assert.True(forced.BurstDue);
        Assert.Contains("normal-priority", forced.Reason);
        Assert.Contains("freshness bound 1 h", forced.Reason);
    }

    [Fact]
    public void LowPriorityBoundOnPoorLink_ForcesABurst()
    {
        SyncDecision decision = Decide(Healthy, Link(NetworkInterfaceKind.Ethernet, roundTrip: TimeSpan.FromSeconds(3)), Backlog(low: TimeSpan.FromHours(5) + TimeSpan.FromMinutes(59) + TimeSpan.FromSeconds(50)));
        Assert.Equal(SyncRule.FreshnessBound, decision.Rule);
        Assert.Contains("low-priority", decision.Reason);
    }

    [Fact]
    public void LowBattery_HoldsNormalUntilItsBound_ThenOneFullBurst()
    {
        SyncDecision held = Decide(Discharging(25), Ethernet, Backlog(normal: TimeSpan.FromMinutes(30)));
        Assert.Equal(SyncRule.LowBattery, held.Rule);
        Assert.False(held.BurstDue);
        Assert.Equal(T0 + TimeSpan.FromMinutes(30) - TimeSpan.FromSeconds(10), held.NextDecisionAt);

        SyncDecision forced = Decide(Discharging(25), Ethernet, Backlog(normal: TimeSpan.FromHours(2)));
        Assert.Equal(SyncAction.SyncNow, forced.Action);
        Assert.Equal(SyncRule.FreshnessBound, forced.Rule);
        Assert.True(forced.BurstDue);
        Assert.Contains("LowBattery would hold it back (battery 25%", forced.Reason);
    }

    [Fact]
    public void CriticalBattery_HoldsPastTheBound_WithoutSpinning()
    {
        SyncDecision decision = Decide(Discharging(5), Ethernet, BacklogSnapshot.Empty with { Priorities = [new BacklogPriorityStats(SyncPriority.Normal, 5, 500, TimeSpan.FromHours(3))] });
        Assert.Equal(SyncRule.CriticalBattery, decision.Rule);
        Assert.False(decision.BurstDue);
        Assert.Equal(decision.DeferUntil, decision.NextDecisionAt); // the deferral's end, not "now" over and over
    }

    [Fact]
    public void LowBattery_HighStillKeepsItsBound()
    {
        SyncDecision decision = Decide(Discharging(25), Ethernet, Backlog(high: TimeSpan.FromMinutes(1), normal: TimeSpan.FromMinutes(30)));
        Assert.Equal(SyncAction.PriorityOnly, decision.Action);
        Assert.True(decision.BurstDue);
    }

    [Fact]
    public void CriticalBatteryAndNoLink_BeatTheBound()
    {
        SyncDecision critical = Decide(Discharging(5), Ethernet, Backlog(high: TimeSpan.FromMinutes(5), normal: TimeSpan.FromHours(2)));
        Assert.Equal(SyncRule.CriticalBattery, critical.Rule);
        Assert.False(critical.BurstDue);
        Assert.Equal(critical.DeferUntil, critical.NextDecisionAt);

        SyncDecision noLink = Decide(Healthy, AllDown(), Backlog(high: TimeSpan.FromMinutes(5)));
        Assert.Equal(SyncRule.NoLink, noLink.Rule);
        Assert.False(noLink.BurstDue);
        Assert.Equal(T0 + TimeSpan.FromMinutes(5), noLink.NextDecisionAt);
    }

    [Fact]
    public void QuotaNearlyFull_BurstsWhateverTheAges()
    {
        var backlog = new BacklogSnapshot([new BacklogPriorityStats(SyncPriority.Normal, 10, 1000, TimeSpan.FromSeconds(1))], 95, 100);
        SyncDecision decision = Decide(Healthy, Cellular, backlog);
        Assert.Equal(SyncRule.QuotaNearlyFull, decision.Rule);
        Assert.True(decision.BurstDue);
    }

    [Fact]
    public void PowerReturning_DecidesAgainWhenTheRestrictionLifts()
    {
        var engine = new SyncPolicyEngine();
        BacklogSnapshot backlog = Backlog(normal: TimeSpan.FromMinutes(5));
        engine.Decide(new SyncPolicyInputs(Discharging(25), Ethernet, backlog), T0);
        SyncDecision settling = engine.Decide(new SyncPolicyInputs(Charging(26), Ethernet, backlog), T0 + TimeSpan.FromMinutes(1));
        Assert.Equal(SyncRule.LowBattery, settling.Rule);
        Assert.Equal(T0 + TimeSpan.FromMinutes(5), settling.NextDecisionAt);
    }

    [Fact]
    public void Bounds_AreConfigurable()
    {
        var options = new SyncPolicyOptions { FreshnessBoundNormal = TimeSpan.FromMinutes(5), BurstLeadTime = TimeSpan.FromSeconds(30) };
        SyncDecision decision = Decide(Healthy, Cellular, Backlog(normal: TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(30)), options);
        Assert.Equal(SyncRule.FreshnessBound, decision.Rule);
        SyncDecision waiting = Decide(Healthy, Ethernet, Backlog(normal: TimeSpan.FromMinutes(1)), options);
        Assert.Equal(T0 + TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(30), waiting.NextDecisionAt);
    }
}
