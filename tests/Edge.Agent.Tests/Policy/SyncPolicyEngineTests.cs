using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;
using static CortexEdge.Agent.Tests.Policy.Fakes.FakeBatterySource;
using static CortexEdge.Agent.Tests.Policy.Fakes.FakeNetworkSource;

namespace CortexEdge.Agent.Tests.Policy;

/// <summary>The decision table: every rule, their precedence, and the hysteresis of every threshold.</summary>
public sealed class SyncPolicyEngineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Young = TimeSpan.FromMinutes(20);
    private static readonly TimeSpan Old = TimeSpan.FromHours(7);

    private static readonly NetworkReading Ethernet = Link(NetworkInterfaceKind.Ethernet);
    private static readonly NetworkReading Cellular = Link(NetworkInterfaceKind.Cellular, metered: true);
    private static readonly BatteryReading Healthy = Discharging(80);

    private static BacklogSnapshot Backlog(TimeSpan? oldest = null, double quota = 0.2) => FakeBacklogSource.Of(oldest ?? Young, quota);

    private static BatteryReading UnknownCharge() => new(true, null, BatteryChargeState.Discharging, ExternalPowerState.Offline, ["BAT0"], ["capacity malformed"]);

    /// <summary>Name -> inputs, expected action, expected rule.</summary>
    private static readonly Dictionary<string, (SyncPolicyInputs Inputs, SyncAction Action, SyncRule Rule)> Table = new()
    {
        ["quota nearly full beats critical battery and no link"] = (new(Discharging(5), AllDown(), Backlog(quota: 0.95)), SyncAction.SyncNow, SyncRule.QuotaNearlyFull),
        ["quota nearly full on ethernet"] = (new(Healthy, Ethernet, Backlog(quota: 0.90)), SyncAction.SyncNow, SyncRule.QuotaNearlyFull),
        ["quota nearly full beats metered"] = (new(Healthy, Cellular, Backlog(quota: 0.93)), SyncAction.SyncNow, SyncRule.QuotaNearlyFull),
        ["critical battery discharging defers"] = (new(Discharging(8), Ethernet, Backlog(quota: 0.5)), SyncAction.Defer, SyncRule.CriticalBattery),
        ["critical battery at threshold defers"] = (new(Discharging(10), Ethernet, Backlog()), SyncAction.Defer, SyncRule.CriticalBattery),
        ["critical battery beats no link"] = (new(Discharging(3), AllDown(), Backlog()), SyncAction.Defer, SyncRule.CriticalBattery),
        ["critical battery beats old backlog on metered"] = (new(Discharging(9), Cellular, Backlog(Old, 0.8)), SyncAction.Defer, SyncRule.CriticalBattery),
        ["critical battery while charging syncs"] = (new(Charging(8), Ethernet, Backlog()), SyncAction.SyncNow, SyncRule.Unrestricted),
        ["no link defers"] = (new(Healthy, AllDown(), Backlog()), SyncAction.Defer, SyncRule.NoLink),
        ["no interfaces at all defers"] = (new(BatteryReading.None, NetworkReading.Offline, Backlog()), SyncAction.Defer, SyncRule.NoLink),
        ["no link beats low battery"] = (new(Discharging(20), AllDown(), Backlog()), SyncAction.Defer, SyncRule.NoLink),
        ["low battery discharging priority only"] = (new(Discharging(25), Ethernet, Backlog()), SyncAction.PriorityOnly, SyncRule.LowBattery),
        ["low battery at threshold priority only"] = (new(Discharging(30), Ethernet, Backlog()), SyncAction.PriorityOnly, SyncRule.LowBattery),
        ["freshness bound beats low battery and old backlog on metered"] = (new(Discharging(25), Cellular, Backlog(Old, 0.75)), SyncAction.SyncNow, SyncRule.FreshnessBound),
        ["low battery charging syncs"] = (new(Charging(25), Ethernet, Backlog()), SyncAction.SyncNow, SyncRule.Unrestricted),
        ["metered young backlog priority only"] = (new(Healthy, Cellular, Backlog()), SyncAction.PriorityOnly, SyncRule.MeteredLink),
        ["metered empty backlog priority only"] = (new(Healthy, Cellular, BacklogSnapshot.Empty), SyncAction.PriorityOnly, SyncRule.MeteredLink),
        ["metered old backlog syncs"] = (new(Healthy, Cellular, Backlog(Old)), SyncAction.SyncNow, SyncRule.CostlyLinkBacklogOld),
        ["metered backlog exactly at age max syncs"] = (new(Healthy, Cellular, Backlog(TimeSpan.FromHours(6))), SyncAction.SyncNow, SyncRule.CostlyLinkBacklogOld),
        ["metered normal data at its freshness bound syncs"] = (new(Healthy, Cellular, Backlog(TimeSpan.FromMinutes(59) + TimeSpan.FromSeconds(50))), SyncAction.SyncNow, SyncRule.FreshnessBound),
        ["weak wifi normal data past its freshness bound syncs"] = (new(Healthy, Link(NetworkInterfaceKind.WiFi, signalDbm: -85), Backlog(TimeSpan.FromMinutes(90))), SyncAction.SyncNow, SyncRule.FreshnessBound),
        ["low battery holds normal data below its bound"] = (new(Discharging(25), Cellular, Backlog(TimeSpan.FromMinutes(50))), SyncAction.PriorityOnly, SyncRule.LowBattery),
        ["critical battery beats the freshness bound"] = (new(Discharging(5), Cellular, Backlog(TimeSpan.FromMinutes(90))), SyncAction.Defer, SyncRule.CriticalBattery),
        ["metered near quota syncs"] = (new(Healthy, Cellular, Backlog(quota: 0.75)), SyncAction.SyncNow, SyncRule.CostlyLinkQuotaHigh),
        ["metered wifi counts as metered"] = (new(Healthy, Link(NetworkInterfaceKind.WiFi, metered: true, signalDbm: -50), Backlog()), SyncAction.PriorityOnly, SyncRule.MeteredLink),
        ["weak wifi priority only"] = (new(Healthy, Link(NetworkInterfaceKind.WiFi, signalDbm: -85), Backlog()), SyncAction.PriorityOnly, SyncRule.PoorLink),
        ["weak wifi old backlog syncs"] = (new(Healthy, Link(NetworkInterfaceKind.WiFi, signalDbm: -85), Backlog(Old)), SyncAction.SyncNow, SyncRule.CostlyLinkBacklogOld),
        ["weak wifi near quota syncs"] = (new(Healthy, Link(NetworkInterfaceKind.WiFi, signalDbm: -85), Backlog(quota: 0.71)), SyncAction.SyncNow, SyncRule.CostlyLinkQuotaHigh),
        ["slow broker priority only"] = (new(Healthy, Link(NetworkInterfaceKind.Ethernet, roundTrip: TimeSpan.FromSeconds(3)), Backlog()), SyncAction.PriorityOnly, SyncRule.PoorLink),
        ["metered and weak is metered"] = (new(Healthy, Link(NetworkInterfaceKind.WiFi, metered: true, signalDbm: -90), Backlog()), SyncAction.PriorityOnly, SyncRule.MeteredLink),
        ["good wifi fast broker syncs"] = (new(Healthy, Link(NetworkInterfaceKind.WiFi, signalDbm: -60, roundTrip: TimeSpan.FromMilliseconds(80)), Backlog()), SyncAction.SyncNow, SyncRule.Unrestricted),
        ["no battery ethernet syncs"] = (new(BatteryReading.None, Ethernet, Backlog()), SyncAction.SyncNow, SyncRule.Unrestricted),
        ["unknown charge is not restricted"] = (new(UnknownCharge(), Ethernet, Backlog()), SyncAction.SyncNow, SyncRule.Unrestricted),
        ["no quota configured never quota rule"] = (new(Healthy, Cellular, new BacklogSnapshot([new BacklogPriorityStats(SyncPriority.Normal, 5, 500, Young)], 900, 0)), SyncAction.PriorityOnly, SyncRule.MeteredLink),
        ["signal on ethernet ignored"] = (new(Healthy, Link(NetworkInterfaceKind.Ethernet, signalDbm: -95), Backlog()), SyncAction.SyncNow, SyncRule.Unrestricted),
    };

    public static TheoryData<string> Cases => new(Table.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decide_Table(string name)
    {
        (SyncPolicyInputs inputs, SyncAction action, SyncRule rule) = Table[name];
        SyncDecision decision = new SyncPolicyEngine().Decide(inputs, T0);
        Assert.True(action == decision.Action && rule == decision.Rule, $"{name}: expected {action}/{rule}, got {decision}");
        Assert.Same(inputs, decision.Inputs);
        Assert.Equal(T0, decision.DecidedAt);
        Assert.False(string.IsNullOrWhiteSpace(decision.Reason));
        Assert.Equal(action == SyncAction.Defer, decision.DeferUntil is not null);
    }

    [Fact]
    public void Decide_EveryRuleAppearsInTheTable()
    {
        HashSet<SyncRule> covered = Table.Values.Select(c => c.Rule).ToHashSet();
        Assert.Equal(Enum.GetValues<SyncRule>().Order(), covered.Order());
    }

    [Fact]
    public void Decide_Defer_UntilFollowsConfiguredIntervals()
    {
        var options = new SyncPolicyOptions { CriticalBatteryDeferInterval = TimeSpan.FromMinutes(45), NoLinkDeferInterval = TimeSpan.FromMinutes(2) };
        Assert.Equal(T0.AddMinutes(45), new SyncPolicyEngine(options).Decide(new(Discharging(5), Ethernet, Backlog()), T0).DeferUntil);
        Assert.Equal(T0.AddMinutes(2), new SyncPolicyEngine(options).Decide(new(Healthy, AllDown(), Backlog()), T0).DeferUntil);
    }

    [Fact]
    public void Decide_Reasons_NameTheValuesAndThresholds()
    {
        var engine = new SyncPolicyEngine();
        Assert.Equal("battery 25% and discharging (threshold <= 30%, lifts above 35%): priority collections only",
            engine.Decide(new(Discharging(25), Ethernet, Backlog()), T0).Reason);
        Assert.Equal("battery 7% and discharging (threshold <= 10%, lifts above 15%): defer all sync until 12:30:00Z or until power returns; writes stay queued",
            new SyncPolicyEngine().Decide(new(Discharging(7), Ethernet, Backlog()), T0).Reason);
        Assert.Equal("no network link up (eth0, wwan0 down): defer until 12:05:00Z or until a link comes up; writes stay queued",
            new SyncPolicyEngine().Decide(new(Healthy, AllDown(), Backlog()), T0).Reason);
        Assert.Equal("link wwan0 (cellular, metered) is metered: priority collections only (oldest unsent 20 min < 6 h, quota 20% < 70%)",
            new SyncPolicyEngine().Decide(new(Healthy, Cellular, Backlog()), T0).Reason);
        Assert.Equal("link wwan0 (cellular, metered) is metered, but the oldest unsent operation has waited 7 h (>= 6 h): sync everything",
            new SyncPolicyEngine().Decide(new(Healthy, Cellular, Backlog(Old)), T0).Reason);
        Assert.Equal("offline queue at 95% of its quota (threshold >= 90%, lifts below 85%): sync everything whatever else holds; overrides critical battery (5%); no link up yet: sync starts as soon as one is",
            new SyncPolicyEngine().Decide(new(Discharging(5), AllDown(), Backlog(quota: 0.95)), T0).Reason);
        Assert.Equal("link wlan0 (wifi, -85 dBm) is poor: signal -85 dBm is weak (threshold <= -80 dBm, lifts above -75 dBm): priority collections only (oldest unsent 20 min < 6 h, quota 20% < 70%)",
            new SyncPolicyEngine().Decide(new(Healthy, Link(NetworkInterfaceKind.WiFi, signalDbm: -85), Backlog()), T0).Reason);
        Assert.Equal("link eth0 (ethernet) unmetered and good, battery 80% and discharging: sync everything",
            new SyncPolicyEngine().Decide(new(Healthy, Ethernet, Backlog()), T0).Reason);
    }

    [Fact]
    public void Decide_ThresholdsAreConfigurable()
    {
        var options = new SyncPolicyOptions { LowBatteryPercent = 50, CriticalBatteryPercent = 20, WeakSignalDbm = -60 };
        Assert.Equal(SyncRule.LowBattery, new SyncPolicyEngine(options).Decide(new(Discharging(45), Ethernet, Backlog()), T0).Rule);
        Assert.Equal(SyncRule.CriticalBattery, new SyncPolicyEngine(options).Decide(new(Discharging(19), Ethernet, Backlog()), T0).Rule);
        Assert.Equal(SyncRule.CostlyLinkBacklogOld,
            new SyncPolicyEngine(options with { CostlyLinkBacklogAgeMax = TimeSpan.FromMinutes(10) }).Decide(new(Healthy, Cellular, Backlog(Young)), T0).Rule);
        Assert.Equal(SyncRule.PoorLink, new SyncPolicyEngine(options).Decide(new(Healthy, Link(NetworkInterfaceKind.WiFi, signalDbm: -65), Backlog()), T0).Rule);
    }

    /// <summary>Feeds a sequence of values one minute apart and returns the rule of each decision.</summary>
    private static List<SyncRule> Sequence<T>(SyncPolicyEngine engine, IEnumerable<T> values, Func<T, SyncPolicyInputs> inputs)
    {
        var rules = new List<SyncRule>();
        DateTimeOffset now = T0;
        foreach (T value in values)
        {
            rules.Add(engine.Decide(inputs(value), now).Rule);
            now += TimeSpan.FromMinutes(1);
        }
        return rules;
    }

    [Fact]
    public void Hysteresis_LowBattery_EntersAtThresholdLiftsAboveBand()
    {
        List<SyncRule> rules = Sequence(new SyncPolicyEngine(), new[] { 31, 30, 31, 33, 35, 36, 33, 31, 30 }, p => new(Discharging(p), Ethernet, Backlog()));
        Assert.Equal(
            [SyncRule.Unrestricted, SyncRule.LowBattery, SyncRule.LowBattery, SyncRule.LowBattery, SyncRule.LowBattery,
             SyncRule.Unrestricted, SyncRule.Unrestricted, SyncRule.Unrestricted, SyncRule.LowBattery],
            rules);
    }

    [Fact]
    public void Hysteresis_CriticalBattery_EntersAtThresholdLiftsAboveBand()
    {
        List<SyncRule> rules = Sequence(new SyncPolicyEngine(), new[] { 11, 10, 12, 15, 16, 11 }, p => new(Discharging(p), Ethernet, Backlog()));
        Assert.Equal(
            [SyncRule.LowBattery, SyncRule.CriticalBattery, SyncRule.CriticalBattery, SyncRule.CriticalBattery, SyncRule.LowBattery, SyncRule.LowBattery],
            rules);
    }

    [Fact]
    public void Hysteresis_QuotaNearlyFull_HoldsUntilBelowBand()
    {
        List<SyncRule> rules = Sequence(new SyncPolicyEngine(), new[] { 0.89, 0.90, 0.87, 0.85, 0.849, 0.88 }, q => new(Discharging(5), Ethernet, Backlog(quota: q)));
        Assert.Equal(
            [SyncRule.CriticalBattery, SyncRule.QuotaNearlyFull, SyncRule.QuotaNearlyFull, SyncRule.QuotaNearlyFull, SyncRule.CriticalBattery, SyncRule.CriticalBattery],
            rules);
    }

    [Fact]
    public void Hysteresis_CostlyLinkQuota_HoldsUntilBelowBand()
    {
        List<SyncRule> rules = Sequence(new SyncPolicyEngine(), new[] { 0.69, 0.70, 0.66, 0.649, 0.69 }, q => new(Healthy, Cellular, Backlog(quota: q)));
        Assert.Equal(
            [SyncRule.MeteredLink, SyncRule.CostlyLinkQuotaHigh, SyncRule.CostlyLinkQuotaHigh, SyncRule.MeteredLink, SyncRule.MeteredLink],
            rules);
    }

    [Fact]
    public void Hysteresis_WeakSignal_HoldsUntilAboveBandAndResetsOnNewLink()
    {
        var engine = new SyncPolicyEngine();
        List<SyncRule> rules = Sequence(engine, new[] { -79.0, -80, -77, -75, -74.5, -79 }, s => new(Healthy, Link(NetworkInterfaceKind.WiFi, signalDbm: s), Backlog()));
        Assert.Equal(
            [SyncRule.Unrestricted, SyncRule.PoorLink, SyncRule.PoorLink, SyncRule.PoorLink, SyncRule.Unrestricted, SyncRule.Unrestricted],
            rules);

        engine.Decide(new(Healthy, Link(NetworkInterfaceKind.WiFi, signalDbm: -81), Backlog()), T0.AddHours(1));
        // Another access point's interface: the weak-signal latch of wlan0 does not carry over.
        SyncDecision other = engine.Decide(new(Healthy, Link(NetworkInterfaceKind.WiFi, signalDbm: -78, name: "wlan1"), Backlog()), T0.AddHours(1).AddMinutes(1));
        Assert.Equal(SyncRule.Unrestricted, other.Rule);
    }

    [Fact]
    public void Hysteresis_SlowRoundTrip_HoldsUntilBelowBand()
    {
        List<SyncRule> rules = Sequence(new SyncPolicyEngine(), new[] { 1999, 2000, 1600, 1501, 1499, 1999 },
            ms => new(Healthy, Link(NetworkInterfaceKind.Ethernet, roundTrip: TimeSpan.FromMilliseconds(ms)), Backlog()));
        Assert.Equal(
            [SyncRule.Unrestricted, SyncRule.PoorLink, SyncRule.PoorLink, SyncRule.PoorLink, SyncRule.Unrestricted, SyncRule.Unrestricted],
            rules);
    }

    [Fact]
    public void Hysteresis_PowerReturn_SettlesBeforeLiftingBatteryRestriction()
    {
        var engine = new SyncPolicyEngine();
        Assert.Equal(SyncRule.LowBattery, engine.Decide(new(Discharging(20), Ethernet, Backlog()), T0).Rule);
        SyncDecision settling = engine.Decide(new(Charging(20), Ethernet, Backlog()), T0.AddMinutes(4));
        Assert.Equal(SyncRule.LowBattery, settling.Rule);
        Assert.Contains("settling", settling.Reason);
        Assert.Equal(SyncRule.Unrestricted, engine.Decide(new(Charging(21), Ethernet, Backlog()), T0.AddMinutes(5)).Rule);
    }

    [Fact]
    public void Hysteresis_FlickeringChargerAtDusk_NeverFlaps()
    {
        var engine = new SyncPolicyEngine();
        var actions = new List<SyncAction>();
        for (int minute = 0; minute < 60; minute++)
        {
            // A panel at dusk: charging one minute, discharging the next, charge hovering around 30%.
            BatteryReading battery = minute % 2 == 0 ? Discharging(29 + minute % 3) : Charging(29 + minute % 3);
            actions.Add(engine.Decide(new(battery, Ethernet, Backlog()), T0.AddMinutes(minute)).Action);
        }
        Assert.All(actions, a => Assert.Equal(SyncAction.PriorityOnly, a));
    }

    [Fact]
    public void Hysteresis_NoisyChargeAroundThreshold_OneChangeOnly()
    {
        int seed = Fakes.TestRandom.Seed();
        var random = new Random(seed);
        var engine = new SyncPolicyEngine();
        SyncAction? previous = null;
        int changes = 0;
        double charge = 40;
        for (int minute = 0; minute < 600; minute++)
        {
            // Slow discharge to ~29%, then a reading noise of +-2 points around it.
            charge = Math.Max(29, charge - 0.05);
            int reported = (int)Math.Round(charge + random.Next(-2, 3));
            SyncAction action = engine.Decide(new(Discharging(reported), Ethernet, Backlog()), T0.AddMinutes(minute)).Action;
            if (previous is not null && previous != action)
                changes++;
            previous = action;
        }
        Assert.True(changes == 1, $"seed {seed}: {changes} decision changes, expected exactly one (into priority only)");
    }

    [Fact]
    public void Reset_ForgetsLatches()
    {
        var engine = new SyncPolicyEngine();
        engine.Decide(new(Discharging(30), Ethernet, Backlog()), T0);
        Assert.Equal(SyncRule.LowBattery, engine.Decide(new(Discharging(33), Ethernet, Backlog()), T0.AddMinutes(1)).Rule);
        engine.Reset();
        Assert.Equal(SyncRule.Unrestricted, engine.Decide(new(Discharging(33), Ethernet, Backlog()), T0.AddMinutes(2)).Rule);
    }

    public static TheoryData<string, SyncPolicyOptions> BadOptions => new()
    {
        { nameof(SyncPolicyOptions.CriticalBatteryPercent), new SyncPolicyOptions { CriticalBatteryPercent = 40 } },
        { nameof(SyncPolicyOptions.LowBatteryPercent), new SyncPolicyOptions { LowBatteryPercent = 120 } },
        { nameof(SyncPolicyOptions.LowBatteryPercent), new SyncPolicyOptions { LowBatteryPercent = double.NaN } },
        { nameof(SyncPolicyOptions.CostlyLinkQuotaFraction), new SyncPolicyOptions { CostlyLinkQuotaFraction = 0.95 } },
        { nameof(SyncPolicyOptions.QuotaNearlyFullFraction), new SyncPolicyOptions { QuotaNearlyFullFraction = 1.5 } },
        { nameof(SyncPolicyOptions.QuotaHysteresisFraction), new SyncPolicyOptions { QuotaHysteresisFraction = 0.8 } },
        { nameof(SyncPolicyOptions.RoundTripHysteresis), new SyncPolicyOptions { RoundTripHysteresis = TimeSpan.FromSeconds(3) } },
        { nameof(SyncPolicyOptions.NoLinkDeferInterval), new SyncPolicyOptions { NoLinkDeferInterval = TimeSpan.Zero } },
        { nameof(SyncPolicyOptions.PowerRestoreSettleTime), new SyncPolicyOptions { PowerRestoreSettleTime = TimeSpan.FromSeconds(-1) } },
        { nameof(SyncPolicyOptions.WeakSignalDbm), new SyncPolicyOptions { WeakSignalDbm = 10 } },
        { nameof(SyncPolicyOptions.FreshnessBoundHigh), new SyncPolicyOptions { FreshnessBoundHigh = TimeSpan.FromSeconds(10) } },
        { nameof(SyncPolicyOptions.FreshnessBoundNormal), new SyncPolicyOptions { FreshnessBoundNormal = TimeSpan.Zero } },
        { nameof(SyncPolicyOptions.BurstLeadTime), new SyncPolicyOptions { BurstLeadTime = TimeSpan.FromSeconds(-1) } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Constructor_InvalidOptions_ErrorNamesTheOption(string option, SyncPolicyOptions options)
    {
        SyncPolicyException error = Assert.Throws<SyncPolicyException>(() => new SyncPolicyEngine(options));
        Assert.Equal(SyncPolicyErrorCode.OptionsInvalid, error.Code);
        Assert.Contains(option, error.Message);
    }

    [Fact]
    public void Decision_Allows_MatchesAction()
    {
        SyncDecision priority = new SyncPolicyEngine().Decide(new(Discharging(20), Ethernet, Backlog()), T0);
        Assert.True(priority.Allows(SyncPriority.High));
        Assert.False(priority.Allows(SyncPriority.Normal));
        SyncDecision defer = new SyncPolicyEngine().Decide(new(Healthy, AllDown(), Backlog()), T0);
        Assert.False(defer.Allows(SyncPriority.High));
        Assert.StartsWith("2026-06-21T12:00:00Z Defer until 2026-06-21T12:05:00Z (NoLink): ", defer.ToString());
    }
}
