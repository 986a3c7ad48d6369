using System.Globalization;

namespace CortexEdge.Agent.Policy;

/// <summary>
/// The sync policy's decision rules. <see cref="Decide"/> tries the rules of <see cref="SyncRule"/>
/// in order and the first that applies decides; docs/sync-policy.md has the table. The engine keeps
/// the hysteresis state of every threshold (and when the battery last discharged), so feed it the
/// readings of one device in time order. It does no I/O and reads no clock: time comes in with each
/// call, which makes any recorded history replay to the same decisions.
/// Not thread safe: one caller at a time (<see cref="SyncPolicy"/> serializes).
/// </summary>
public sealed class SyncPolicyEngine
{
    private readonly SyncPolicyOptions _options;
    private HysteresisLatch _criticalBattery;
    private HysteresisLatch _lowBattery;
    private HysteresisLatch _quotaNearlyFull;
    private HysteresisLatch _costlyLinkQuota;
    private HysteresisLatch _weakSignal;
    private HysteresisLatch _slowRoundTrip;
    private string? _signalLinkName;
    private DateTimeOffset? _lastDischargingAt;

    /// <summary>Creates an engine with <paramref name="options"/> (defaults when <c>null</c>).</summary>
    /// <exception cref="SyncPolicyException">The options are invalid (<see cref="SyncPolicyErrorCode.OptionsInvalid"/>).</exception>
    public SyncPolicyEngine(SyncPolicyOptions? options = null)
    {
        _options = options ?? new SyncPolicyOptions();
        _options.Validate();
    }

    /// <summary>The thresholds in use.</summary>
    public SyncPolicyOptions Options => _options;

    /// <summary>Forgets all hysteresis state, as after a restart.</summary>
    public void Reset()
    {
        _criticalBattery.Reset();
        _lowBattery.Reset();
        _quotaNearlyFull.Reset();
        _costlyLinkQuota.Reset();
        _weakSignal.Reset();
        _slowRoundTrip.Reset();
        _signalLinkName = null;
        _lastDischargingAt = null;
    }

    /// <summary>
    /// Decides from <paramref name="inputs"/> read at <paramref name="now"/>: what may be sent (the
    /// first rule that applies), whether a burst is due now, and when to decide again at the latest.
    /// Never throws for odd readings.
    /// </summary>
    public SyncDecision Decide(SyncPolicyInputs inputs, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        SyncDecision decision = DecideRule(inputs, now);
        BacklogSnapshot backlog = inputs.Backlog;

        // 4. Data a low battery or a costly link would hold back is about to exceed its freshness
        // bound: one burst carries everything (critical battery, no link and quota decide before).
        if (decision.Action == SyncAction.PriorityOnly && FirstDue(backlog, static priority => priority != SyncPriority.High) is BacklogPriorityStats overdue)
        {
            decision = decision with
            {
                Action = SyncAction.SyncNow,
                Rule = SyncRule.FreshnessBound,
                Reason = $"the oldest unsent {overdue.Priority.ToString().ToLowerInvariant()}-priority operation has waited {BacklogSnapshot.FormatAge(overdue.OldestUnsentAge!.Value)} " +
                    $"(freshness bound {BacklogSnapshot.FormatAge(_options.FreshnessBound(overdue.Priority))}, burst {BacklogSnapshot.FormatAge(_options.BurstLeadTime)} ahead): " +
                    $"sync everything in one burst, although {decision.Rule} would hold it back ({decision.Reason})",
            };
        }
        bool pending = backlog.TotalOperations > 0;
        bool burst = decision.Rule switch
        {
            _ when !pending || decision.Action == SyncAction.Defer => false,
            // Pressure rules: waiting longer is what they exist to prevent.
            SyncRule.QuotaNearlyFull or SyncRule.CostlyLinkBacklogOld or SyncRule.CostlyLinkQuotaHigh or SyncRule.FreshnessBound => true,
            _ => FirstDue(backlog, decision.Action == SyncAction.PriorityOnly ? static priority => priority == SyncPriority.High : static _ => true) is not null,
        };

        DateTimeOffset? next = null;
        if (pending)
        {
            if (decision.Action == SyncAction.Defer)
            {
                next = decision.DeferUntil;
            }
            else
            {
                // Every pending priority has a due time, allowed or not: one it may not send yet is
                // forced out by the freshness rule (on a costly link) when that time comes.
                // One already due but held back (a battery rule) waits for an input change instead:
                // deciding again at once would only spin.
                foreach (BacklogPriorityStats stats in backlog.Priorities)
                {
                    if (stats.Operations <= 0 || stats.OldestUnsentAge is not TimeSpan age)
                        continue;
                    TimeSpan wait = _options.BurstAge(stats.Priority) - age;
                    if (wait > TimeSpan.Zero)
                        next = Earliest(next, now + wait);
                    else if (burst && decision.Allows(stats.Priority))
                        next = Earliest(next, now);
                }

                // A battery restriction lifting changes what may go.
                if (!inputs.Battery.IsDischarging && _lastDischargingAt is DateTimeOffset last && now - last < _options.PowerRestoreSettleTime)
                    next = Earliest(next, last + _options.PowerRestoreSettleTime);
            }
        }

        return decision with { BurstDue = burst, NextDecisionAt = next };
    }

    /// <summary>
    /// The stats of the priority whose oldest unsent op has reached its burst age (freshness bound
    /// minus the burst lead time), highest priority first, among those <paramref name="include"/>
    /// allows; null when none is due. Held-back priorities (normal or low) and the priorities a
    /// priority-only decision lets through (high) are both found by it.
    /// </summary>
    private BacklogPriorityStats? FirstDue(BacklogSnapshot backlog, Func<SyncPriority, bool> include)
    {
        BacklogPriorityStats? due = null;
        foreach (BacklogPriorityStats stats in backlog.Priorities)
        {
            if (!include(stats.Priority) || stats.Operations <= 0 || stats.OldestUnsentAge is not TimeSpan age)
                continue;
            if (age >= _options.BurstAge(stats.Priority) && (due is null || stats.Priority < due.Value.Priority))
                due = stats;
        }
        return due;
    }

    private static DateTimeOffset Earliest(DateTimeOffset? a, DateTimeOffset b) => a is DateTimeOffset x && x < b ? x : b;

    private SyncDecision DecideRule(SyncPolicyInputs inputs, DateTimeOffset now)
    {
        BatteryReading battery = inputs.Battery;
        NetworkReading network = inputs.Network;
        BacklogSnapshot backlog = inputs.Backlog;
        SyncPolicyOptions o = _options;

        // Battery: thresholds on the charge, restriction only while running down the battery.
        double? capacity = battery.HasBattery ? battery.CapacityPercent : null;
        bool critical = _criticalBattery.UpdateFalling(capacity, o.CriticalBatteryPercent, o.BatteryHysteresisPercent);
        bool low = _lowBattery.UpdateFalling(capacity, o.LowBatteryPercent, o.BatteryHysteresisPercent);
        if (battery.IsDischarging)
            _lastDischargingAt = now;
        bool onBattery = battery.IsDischarging || (_lastDischargingAt is DateTimeOffset last && now - last < o.PowerRestoreSettleTime);

        // Quota.
        double? quota = backlog.QuotaBytes > 0 ? backlog.QuotaFraction : null;
        bool quotaNearlyFull = _quotaNearlyFull.UpdateRising(quota, o.QuotaNearlyFullFraction, o.QuotaHysteresisFraction);
        bool costlyQuota = _costlyLinkQuota.UpdateRising(quota, o.CostlyLinkQuotaFraction, o.QuotaHysteresisFraction);

        // Link quality: the signal latch belongs to one link; a new link starts afresh.
        NetworkInterfaceReading? link = network.ActiveLink;
        if (link?.Name != _signalLinkName)
        {
            _weakSignal.Reset();
            _signalLinkName = link?.Name;
        }
        bool weakSignal = _weakSignal.UpdateFalling(link?.Kind == NetworkInterfaceKind.WiFi ? link.SignalDbm : null, o.WeakSignalDbm, o.SignalHysteresisDb);
        bool slow = _slowRoundTrip.UpdateRising(link is null ? null : network.BrokerRoundTrip?.TotalMilliseconds,
            o.SlowRoundTrip.TotalMilliseconds, o.RoundTripHysteresis.TotalMilliseconds);

        TimeSpan? oldest = backlog.OldestUnsentAge;
        bool backlogOld = oldest >= o.CostlyLinkBacklogAgeMax;

        // 1. Quota nearly full: holding data back would mean refusing or dropping writes.
        if (quotaNearlyFull)
        {
            string extra = (onBattery && critical ? $"; overrides critical battery ({Percent(capacity)})" : "")
                + (link is null ? "; no link up yet: sync starts as soon as one is" : $" over {link}");
            return Make(SyncAction.SyncNow, null, SyncRule.QuotaNearlyFull,
                $"offline queue at {Fraction(backlog.QuotaFraction)} of its quota ({Threshold(">=", o.QuotaNearlyFullFraction, o.QuotaNearlyFullFraction - o.QuotaHysteresisFraction, "%q")}): sync everything whatever else holds{extra}");
        }

        // 2. Critical battery: keep the device alive (it keeps recording locally).
        if (onBattery && critical)
        {
            DateTimeOffset until = now + o.CriticalBatteryDeferInterval;
            return Make(SyncAction.Defer, until, SyncRule.CriticalBattery,
                $"battery {Percent(capacity)} {Discharging(battery)} ({CriticalText()}): defer all sync until {Clock(until)} or until power returns; writes stay queued");
        }

        // 3. No link.
        if (link is null)
        {
            DateTimeOffset until = now + o.NoLinkDeferInterval;
            return Make(SyncAction.Defer, until, SyncRule.NoLink,
                $"no network link up{DownLinks(network)}: defer until {Clock(until)} or until a link comes up; writes stay queued");
        }

        // 5. Low battery: only what matters most.
        if (onBattery && low)
        {
            return Make(SyncAction.PriorityOnly, null, SyncRule.LowBattery,
                $"battery {Percent(capacity)} {Discharging(battery)} ({Threshold("<=", o.LowBatteryPercent, o.LowBatteryPercent + o.BatteryHysteresisPercent, "%")}): priority collections only");
        }

        bool poor = weakSignal || slow;
        if (link.IsMetered || poor)
        {
            string why = link.IsMetered ? $"link {link} is metered" : PoorText(link, network, weakSignal, slow);
            // 6. and 7. A costly link still carries everything when waiting longer would cost more.
            if (backlogOld)
            {
                return Make(SyncAction.SyncNow, null, SyncRule.CostlyLinkBacklogOld,
                    $"{why}, but the oldest unsent operation has waited {BacklogSnapshot.FormatAge(oldest!.Value)} (>= {BacklogSnapshot.FormatAge(o.CostlyLinkBacklogAgeMax)}): sync everything");
            }
            if (costlyQuota)
            {
                return Make(SyncAction.SyncNow, null, SyncRule.CostlyLinkQuotaHigh,
                    $"{why}, but the offline queue is at {Fraction(backlog.QuotaFraction)} of its quota ({Threshold(">=", o.CostlyLinkQuotaFraction, o.CostlyLinkQuotaFraction - o.QuotaHysteresisFraction, "%q")}): sync everything");
            }
            string waiting = $"oldest unsent {(oldest is TimeSpan age ? BacklogSnapshot.FormatAge(age) : "none")} < {BacklogSnapshot.FormatAge(o.CostlyLinkBacklogAgeMax)}, quota {Fraction(backlog.QuotaFraction)} < {Fraction(o.CostlyLinkQuotaFraction)}";
            // 8. and 9.
            return link.IsMetered
                ? Make(SyncAction.PriorityOnly, null, SyncRule.MeteredLink, $"{why}: priority collections only ({waiting})")
                : Make(SyncAction.PriorityOnly, null, SyncRule.PoorLink, $"{why}: priority collections only ({waiting})");
        }

        // 10.
        string power = !battery.HasBattery ? "no battery" : onBattery ? $"battery {Percent(capacity)} {Discharging(battery)}" : $"battery {Percent(capacity)} on external power";
        return Make(SyncAction.SyncNow, null, SyncRule.Unrestricted, $"link {link} unmetered and good, {power}: sync everything");

        SyncDecision Make(SyncAction action, DateTimeOffset? until, SyncRule rule, string reason) =>
            new(action, until, rule, reason, now, inputs);

        string CriticalText() => Threshold("<=", o.CriticalBatteryPercent, o.CriticalBatteryPercent + o.BatteryHysteresisPercent, "%");
    }

    private string PoorText(NetworkInterfaceReading link, NetworkReading network, bool weakSignal, bool slow)
    {
        var parts = new List<string>(2);
        if (weakSignal)
            parts.Add($"signal {link.SignalDbm:0} dBm is weak ({Threshold("<=", _options.WeakSignalDbm, _options.WeakSignalDbm + _options.SignalHysteresisDb, " dBm")})");
        if (slow)
            parts.Add($"broker round trip {network.BrokerRoundTrip!.Value.TotalMilliseconds:0} ms is slow (>= {_options.SlowRoundTrip.TotalMilliseconds:0} ms, recovers below {(_options.SlowRoundTrip - _options.RoundTripHysteresis).TotalMilliseconds:0} ms)");
        return $"link {link} is poor: {string.Join(" and ", parts)}";
    }

    /// <summary>States the threshold and where the condition ends, so a latched decision explains itself.</summary>
    private static string Threshold(string comparison, double threshold, double releaseAt, string unit) =>
        $"threshold {comparison} {Format(threshold, unit)}, lifts {(comparison == "<=" ? "above" : "below")} {Format(releaseAt, unit)}";

    private static string Format(double value, string unit) => unit == "%q"
        ? Fraction(value)
        : value.ToString("0.##", CultureInfo.InvariantCulture) + unit;

    private static string Fraction(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string Percent(double? capacity) => capacity is double value ? $"{value:0}%" : "unknown charge";

    private static string Discharging(BatteryReading battery) => battery.IsDischarging ? "and discharging" : "and power just returned (settling)";

    private static string Clock(DateTimeOffset time) => time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + "Z";

    private static string DownLinks(NetworkReading network)
    {
        var down = new List<string>();
        foreach (NetworkInterfaceReading candidate in network.Interfaces)
        {
            if (candidate.Kind is NetworkInterfaceKind.Ethernet or NetworkInterfaceKind.WiFi or NetworkInterfaceKind.Cellular)
                down.Add(candidate.Name);
        }
        return down.Count == 0 ? " (no physical interface)" : $" ({string.Join(", ", down)} down)";
    }
}
