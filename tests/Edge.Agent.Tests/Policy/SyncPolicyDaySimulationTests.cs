using System.Text;
using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;
using Xunit.Abstractions;

namespace CortexEdge.Agent.Tests.Policy;

/// <summary>
/// A scripted day of a solar-powered sensor gateway: battery (solar charge by day, discharge by
/// night, reading noise, a flickering charger at dawn and dusk), links (metered cellular by night and evening
/// with outages, no link at dawn, unmetered Wi-Fi by day with a weak-signal hour), and a backlog
/// fed by sensors (plus an 8 MB camera dump at 04:45) and drained by what the decisions allow.
/// The policy runs once a simulated minute through <see cref="SyncPolicy"/>; the recorded timeline
/// is checked for invariants at every step and printed.
/// </summary>
public sealed class SyncPolicyDaySimulationTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Midnight = new(2026, 6, 21, 0, 0, 0, TimeSpan.Zero);
    private const long QuotaBytes = 12_000_000;

    private sealed class PriorityQueue(SyncPriority priority)
    {
        public SyncPriority Priority { get; } = priority;
        public long Ops { get; private set; }
        public long Bytes { get; private set; }
        public DateTimeOffset? Oldest { get; private set; }
        public long WrittenBytes { get; private set; }
        public long SentBytes { get; private set; }

        public void Write(long ops, long bytesEach, DateTimeOffset now)
        {
            Ops += ops;
            Bytes += ops * bytesEach;
            WrittenBytes += ops * bytesEach;
            Oldest ??= now;
        }

        public void Drain()
        {
            SentBytes += Bytes;
            Ops = 0;
            Bytes = 0;
            Oldest = null;
        }

        public BacklogPriorityStats Stats(DateTimeOffset now) => new(Priority, Ops, Bytes, Oldest is DateTimeOffset oldest ? now - oldest : null);
    }

    private sealed record Step(DateTimeOffset At, SyncDecision Decision, int ReportedCharge, bool Discharging, string? Link, bool Metered, double QuotaFraction, TimeSpan? Oldest, TimeSpan? HighStaleness);

    [Fact]
    public void Day_SolarGatewayOnMixedLinks_InvariantsHold()
    {
        int seed = TestRandom.Seed();
        (List<Step> steps, SyncPolicy policy, PriorityQueue[] queues) = Simulate(seed);

        string timeline = Timeline(policy.Log);
        output.WriteLine($"seed {seed}");
        output.WriteLine(timeline);
        string context = $"seed {seed} (replay with CE_TEST_SEED={seed})\n{timeline}";

        foreach (Step step in steps)
        {
            string at = $"{step.At:HH:mm} {step.Decision}; {context}";
            SyncDecision d = step.Decision;

            // Never defers (or holds back anything) when the quota is nearly full.
            if (step.QuotaFraction >= 0.90)
                Assert.True(d.Action == SyncAction.SyncNow, $"quota {step.QuotaFraction:0.00} but {at}");

            // Never syncs on a critical, discharging battery unless the quota rule says so.
            if (step.ReportedCharge <= 10 && step.Discharging && d.Rule != SyncRule.QuotaNearlyFull)
                Assert.True(d.Action == SyncAction.Defer, $"critical battery {step.ReportedCharge}% but {at}");

            // Priority only on a metered link unless the backlog is old or the quota near.
            if (step.Metered && d.Action == SyncAction.SyncNow)
            {
                // Old: past the costly-link age, or (freshness rule) past the normal bound less the burst lead.
                bool old = step.Oldest >= TimeSpan.FromHours(6) || (d.Rule == SyncRule.FreshnessBound && step.Oldest >= TimeSpan.FromHours(1) - TimeSpan.FromSeconds(10));
                Assert.True(d.Rule == SyncRule.QuotaNearlyFull || old || step.QuotaFraction >= 0.65, $"full sync over metered link without cause: {at}");
            }
            if (step.Metered && d.Rule == SyncRule.CostlyLinkBacklogOld)
                Assert.True(step.Oldest >= TimeSpan.FromHours(6), $"backlog-old rule with oldest {step.Oldest}: {at}");

            // Without a link, only the quota rule keeps trying; otherwise defer with a time.
            if (step.Link is null && d.Rule != SyncRule.QuotaNearlyFull)
                Assert.True(d.Action == SyncAction.Defer, $"no link but {at}");
            if (d.Action == SyncAction.Defer)
                Assert.True(d.DeferUntil > step.At, $"deferral without a future time: {at}");

            // Priority data goes whenever a link is up and the battery is not critical.
            if (step.Link is not null && d.Rule != SyncRule.CriticalBattery)
                Assert.True(d.Allows(SyncPriority.High), $"link up, battery not critical, yet priority data held: {at}");
        }

        // Priority data waits at most one step whenever the previous step had a link and allowed it.
        for (int i = 1; i < steps.Count; i++)
        {
            if (steps[i - 1].Link is not null && steps[i - 1].Decision.Allows(SyncPriority.High))
                Assert.True(steps[i].HighStaleness == TimeSpan.Zero, $"priority data {steps[i].HighStaleness} old at {steps[i].At:HH:mm}; {context}");
        }

        // Nothing is lost: every byte written was sent or is still queued, per priority.
        foreach (PriorityQueue queue in queues)
        {
            output.WriteLine($"{queue.Priority}: written {queue.WrittenBytes} B, sent {queue.SentBytes} B, queued {queue.Bytes} B");
            Assert.Equal(queue.WrittenBytes, queue.SentBytes + queue.Bytes);
        }

        // The timeline visits every rule a day like this should exercise (with the default bounds,
        // normal 1 h and low 6 h, the freshness rule fires before the 6 h backlog-age rule can).
        HashSet<SyncRule> visited = steps.Select(s => s.Decision.Rule).ToHashSet();
        foreach (SyncRule rule in new[] { SyncRule.QuotaNearlyFull, SyncRule.CriticalBattery, SyncRule.NoLink, SyncRule.LowBattery,
                     SyncRule.MeteredLink, SyncRule.FreshnessBound, SyncRule.PoorLink, SyncRule.Unrestricted })
            Assert.True(visited.Contains(rule), $"rule {rule} never decided; {context}");

        // Hysteresis: no decision flips back to its predecessor within 5 minutes unless the link
        // changed. A burst is not a flap: the backlog and quota rules are meant to end once the
        // sync they ask for has drained the queue.
        SyncRule[] drainedBySync = [SyncRule.QuotaNearlyFull, SyncRule.CostlyLinkBacklogOld, SyncRule.CostlyLinkQuotaHigh, SyncRule.FreshnessBound];
        int bursts = 0;
        for (int i = 2; i < steps.Count; i++)
        {
            for (int back = 1; back <= 5 && i - back - 1 >= 0; back++)
            {
                Step before = steps[i - back - 1], changed = steps[i - back], now = steps[i];
                bool flipped = !changed.Decision.IsSameDecisionAs(before.Decision) && now.Decision.IsSameDecisionAs(before.Decision) && !now.Decision.IsSameDecisionAs(changed.Decision);
                bool linkChanged = before.Link != changed.Link || changed.Link != now.Link;
                if (flipped && drainedBySync.Contains(changed.Decision.Rule))
                {
                    bursts++;
                    continue;
                }
                Assert.False(flipped && !linkChanged, $"flap at {changed.At:HH:mm}: {before.Decision.Rule} -> {changed.Decision.Rule} -> {now.Decision.Rule}; {context}");
            }
        }
        Assert.True(bursts >= 1, $"no full-sync burst over the metered link; {context}");
        // Each freshness burst is two changes by design (into the burst and back); the rest must stay few.
        int freshnessBursts = policy.Log.Snapshot().Count(d => d.Rule == SyncRule.FreshnessBound);
        Assert.True(policy.Log.ChangeCount - (2 * freshnessBursts) <= 30, $"{policy.Log.ChangeCount} decision changes in a day ({freshnessBursts} freshness bursts); {context}");
        Assert.Equal(24 * 60, policy.Log.EvaluationCount);
        Assert.Equal(0, policy.Log.DroppedCount);
    }

    /// <summary>Plays the scripted day; the same seed gives the same world and, the engine being deterministic, the same decisions.</summary>
    private static (List<Step> Steps, SyncPolicy Policy, PriorityQueue[] Queues) Simulate(int seed)
    {
        var random = new Random(seed);
        var clock = new ManualTimeProvider(Midnight);
        var battery = new FakeBatterySource();
        var network = new FakeNetworkSource();
        var backlog = new FakeBacklogSource();
        var policy = new SyncPolicy(battery, network, backlog, timeProvider: clock, log: new SyncDecisionLog(512));
        PriorityQueue[] queues = [new(SyncPriority.High), new(SyncPriority.Normal), new(SyncPriority.Low)];

        double charge = 38;
        var steps = new List<Step>();
        for (int minute = 0; minute < 24 * 60; minute++)
        {
            DateTimeOffset now = Midnight.AddMinutes(minute);
            double hour = minute / 60.0;

            // Sensors write every minute; an alarm at 04:45 (after the 04:3x freshness burst) dumps camera frames as bulk data.
            queues[0].Write(2, 200, now);
            queues[1].Write(60, 150, now);
            queues[2].Write(10, 1000, now);
            if (minute == 4 * 60 + 45)
                queues[2].Write(8000, 1000, now);

            // Solar: panel power follows the sun from 07:00 to 17:30; the gateway draws a base load.
            double panel = hour is >= 7 and <= 17.5 ? Math.Max(0, Math.Sin(Math.PI * (hour - 7) / 10.5)) * 0.35 : 0;
            SyncAction? previousAction = policy.Current?.Action;
            double radio = previousAction switch { SyncAction.SyncNow => 0.03, SyncAction.PriorityOnly => 0.01, _ => 0 };
            double net = panel - 0.07 - radio;
            charge = Math.Clamp(charge + net, 0, 100);
            int reported = (int)Math.Clamp(Math.Round(charge + random.Next(-1, 2)), 0, 100);
            bool discharging = net <= 0;
            battery.Current = new BatteryReading(true, reported,
                discharging ? BatteryChargeState.Discharging : BatteryChargeState.Charging,
                panel > 0.01 ? ExternalPowerState.Online : ExternalPowerState.Offline, ["BAT0", "solar"], []);

            // Links: cellular by night (outages 02:00-02:30 and 21:00-21:20), none 05:00-08:00, Wi-Fi 08:00-17:30.
            NetworkReading link;
            if (hour is >= 8 and < 17.5)
            {
                double signal = hour is >= 13 and < 14 ? -80 + random.Next(-3, 4) : -60 + random.Next(-2, 3);
                link = FakeNetworkSource.Link(NetworkInterfaceKind.WiFi, signalDbm: signal, roundTrip: TimeSpan.FromMilliseconds(40 + random.Next(20)));
            }
            else if (hour is >= 5 and < 8 || hour is >= 2 and < 2.5 || hour is >= 21 and < 21 + 20 / 60.0)
            {
                link = FakeNetworkSource.AllDown();
            }
            else
            {
                link = FakeNetworkSource.Link(NetworkInterfaceKind.Cellular, metered: true, roundTrip: TimeSpan.FromMilliseconds(300 + random.Next(200)));
            }
            network.Current = link;

            BacklogSnapshot snapshot = new([.. queues.Select(q => q.Stats(now))], queues.Sum(q => q.Bytes), QuotaBytes);
            backlog.Current = snapshot;

            SyncDecision decision = policy.Evaluate();
            TimeSpan? highStaleness = queues[0].Stats(now).OldestUnsentAge;

            // The sync layer does what the decision allows, when there is a link to do it over.
            if (link.ActiveLink is not null)
            {
                foreach (PriorityQueue queue in queues)
                {
                    if (decision.Allows(queue.Priority))
                        queue.Drain();
                }
            }

            steps.Add(new Step(now, decision, reported, battery.Current.IsDischarging, link.ActiveLink?.Name, link.ActiveLink?.IsMetered ?? false,
                snapshot.QuotaFraction, snapshot.OldestUnsentAge, highStaleness));
            clock.Advance(TimeSpan.FromMinutes(1));
        }
        return (steps, policy, queues);
    }

    [Fact]
    public void Day_ReplayedWithSameSeed_SameDecisionSequence()
    {
        int seed = TestRandom.Seed();
        (List<Step> first, _, _) = Simulate(seed);
        (List<Step> second, _, _) = Simulate(seed);
        Assert.Equal(first.Count, second.Count);
        for (int i = 0; i < first.Count; i++)
        {
            Assert.True(first[i].Decision.Action == second[i].Decision.Action && first[i].Decision.Rule == second[i].Decision.Rule
                && first[i].Decision.DeferUntil == second[i].Decision.DeferUntil && first[i].Decision.Reason == second[i].Decision.Reason,
                $"seed {seed}: step {i} differs: {first[i].Decision} vs {second[i].Decision}");
        }
    }

    private static string Timeline(SyncDecisionLog log)
    {
        var builder = new StringBuilder();
        foreach (SyncDecision decision in log.Snapshot())
            builder.Append(decision.DecidedAt.UtcDateTime.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)).Append(' ')
                .Append(decision.Action).Append(" (").Append(decision.Rule).Append("): ").AppendLine(decision.Reason);
        return builder.ToString();
    }
}
