using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;

namespace CortexEdge.Agent.Tests.Policy;

/// <summary>The front door: real sysfs readers over fake trees, fakes for what the sync layer supplies.</summary>
public sealed class SyncPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Evaluate_RealReadersOverFakeTrees_DecidesAndLogsChanges()
    {
        using var tree = new FakeSysfsTree();
        tree.File("power/BAT0/type", "Battery").File("power/BAT0/capacity", "64").File("power/BAT0/status", "Discharging");
        tree.File("net/wwan0/type", "519").File("net/wwan0/operstate", "up");
        var clock = new ManualTimeProvider(T0);
        var backlog = new FakeBacklogSource { Current = FakeBacklogSource.Of(TimeSpan.FromMinutes(30), 0.1) };
        var policy = new SyncPolicy(
            new SysfsBatterySource(tree.PathOf("power")),
            new SysfsNetworkSource(new SysfsNetworkOptions { NetClassRoot = tree.PathOf("net"), ProcNetRoot = tree.PathOf("proc") }),
            backlog, timeProvider: clock, log: new SyncDecisionLog(8));
        Assert.Null(policy.Current);

        SyncDecision first = policy.Evaluate();
        Assert.Equal(SyncRule.MeteredLink, first.Rule);
        Assert.Equal(64, first.Inputs.Battery.CapacityPercent);
        Assert.Equal("wwan0", first.Inputs.Network.ActiveLink?.Name);
        Assert.Equal(T0, first.DecidedAt);

        clock.Advance(TimeSpan.FromMinutes(1));
        policy.Evaluate();
        Assert.Equal(1, policy.Log.Count);

        // The modem drops: nothing to send over.
        tree.File("net/wwan0/operstate", "down");
        clock.Advance(TimeSpan.FromMinutes(1));
        SyncDecision defer = policy.Evaluate();
        Assert.Equal(SyncAction.Defer, defer.Action);
        Assert.Equal(T0.AddMinutes(2 + 5), defer.DeferUntil);

        // The battery drains while offline and the queue fills past the quota threshold.
        tree.File("power/BAT0/capacity", "6");
        backlog.Current = FakeBacklogSource.Of(TimeSpan.FromHours(9), 0.93);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(SyncRule.QuotaNearlyFull, policy.Evaluate().Rule);
        Assert.Same(policy.Current, policy.Log.Latest);
        Assert.Equal([SyncRule.MeteredLink, SyncRule.NoLink, SyncRule.QuotaNearlyFull], policy.Log.Snapshot().Select(d => d.Rule));
        Assert.Equal(4, policy.Log.EvaluationCount);
    }

    [Fact]
    public void Evaluate_UpsMainsLine_DrivesBatteryRestriction()
    {
        var mains = new FakeMainsPowerSource();
        var battery = new FakeBatterySource
        {
            Current = new BatteryReading(true, 25, BatteryChargeState.Unknown, ExternalPowerState.Unknown, ["ups-gauge"], []),
        };
        var clock = new ManualTimeProvider(T0);
        var policy = new SyncPolicy(new UpsBatterySource(battery, mains), new FakeNetworkSource { Current = FakeNetworkSource.Link(NetworkInterfaceKind.Ethernet) },
            new FakeBacklogSource(), timeProvider: clock);
        var reasons = new List<MainsPowerState>();
        mains.Changed += (_, state) => reasons.Add(state);

        Assert.Equal(SyncRule.Unrestricted, policy.Evaluate().Rule);
        mains.State = MainsPowerState.Lost;
        SyncDecision onBattery = policy.Evaluate();
        Assert.Equal(SyncRule.LowBattery, onBattery.Rule);
        Assert.Equal(ExternalPowerState.Offline, onBattery.Inputs.Battery.ExternalPower);
        Assert.Contains("fake-gpiochip0 line 4", onBattery.Inputs.Battery.Sources);
        Assert.Equal([MainsPowerState.Lost], reasons);
    }
}
