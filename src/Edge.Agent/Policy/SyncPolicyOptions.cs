namespace CortexEdge.Agent.Policy;

/// <summary>
/// Every threshold of the sync policy, with defaults for a battery- or solar-powered gateway on a
/// possibly metered link. docs/sync-policy.md explains each. Each threshold with a hysteresis
/// enters at the threshold and leaves only past it by the hysteresis, so readings hovering around
/// a threshold do not make decisions flap.
/// </summary>
public sealed record SyncPolicyOptions
{
    /// <summary>Battery percentage at or below which, while discharging, only priority collections sync. Default 30.</summary>
    public double LowBatteryPercent { get; init; } = 30;

    /// <summary>Battery percentage at or below which, while discharging, nothing syncs. Default 10.</summary>
    public double CriticalBatteryPercent { get; init; } = 10;

    /// <summary>How far above a battery threshold the charge must recover before the restriction lifts. Default 5 (points).</summary>
    public double BatteryHysteresisPercent { get; init; } = 5;

    /// <summary>
    /// How long the battery must have stopped discharging (charger or mains back) before a battery
    /// restriction lifts, so a solar panel at dusk or a loose plug does not flap decisions. Default 5 minutes.
    /// </summary>
    public TimeSpan PowerRestoreSettleTime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Fraction of the offline-queue quota at or above which everything syncs whatever else holds. Default 0.90.</summary>
    public double QuotaNearlyFullFraction { get; init; } = 0.90;

    /// <summary>Fraction of the quota at or above which a metered or poor link syncs everything. Default 0.70.</summary>
    public double CostlyLinkQuotaFraction { get; init; } = 0.70;

    /// <summary>How far below a quota threshold use must fall before the rule stops applying. Default 0.05.</summary>
    public double QuotaHysteresisFraction { get; init; } = 0.05;

    /// <summary>Age of the oldest unsent operation at or above which a metered or poor link syncs everything. Default 6 hours.</summary>
    public TimeSpan CostlyLinkBacklogAgeMax { get; init; } = TimeSpan.FromHours(6);

    /// <summary>Wi-Fi signal at or below which the link counts as poor (priority only). Default -80 dBm.</summary>
    public double WeakSignalDbm { get; init; } = -80;

    /// <summary>How many dB above <see cref="WeakSignalDbm"/> the signal must recover. Default 5.</summary>
    public double SignalHysteresisDb { get; init; } = 5;

    /// <summary>Broker round trip at or above which the link counts as poor. Default 2 seconds.</summary>
    public TimeSpan SlowRoundTrip { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How far below <see cref="SlowRoundTrip"/> the round trip must fall to stop counting as slow. Default 500 ms.</summary>
    public TimeSpan RoundTripHysteresis { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a critical-battery deferral lasts before the policy decides again at the latest. Default 30 minutes.</summary>
    public TimeSpan CriticalBatteryDeferInterval { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a no-link deferral lasts before the policy decides again at the latest. Default 5 minutes.</summary>
    public TimeSpan NoLinkDeferInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How stale <see cref="SyncPriority.High"/> data may get before it must go: a burst runs when
    /// its oldest unsent op nears this age. Default 1 minute.
    /// </summary>
    public TimeSpan FreshnessBoundHigh { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How stale <see cref="SyncPriority.Normal"/> data may get before it must go (even over a metered or poor link). Default 1 hour.</summary>
    public TimeSpan FreshnessBoundNormal { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How stale <see cref="SyncPriority.Low"/> data may get before it must go (even over a metered or poor link). Default 6 hours.</summary>
    public TimeSpan FreshnessBoundLow { get; init; } = TimeSpan.FromHours(6);

    /// <summary>
    /// How long before a freshness bound the burst starts, so the data arrives within the bound
    /// (connect, upload, acknowledgement). Must be below every bound. Default 10 seconds.
    /// </summary>
    public TimeSpan BurstLeadTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The freshness bound of <paramref name="priority"/>.</summary>
    public TimeSpan FreshnessBound(SyncPriority priority) => priority switch
    {
        SyncPriority.High => FreshnessBoundHigh,
        SyncPriority.Normal => FreshnessBoundNormal,
        _ => FreshnessBoundLow,
    };

    /// <summary>The age at which <paramref name="priority"/>'s oldest unsent op is due a burst: its freshness bound minus the burst lead time.</summary>
    public TimeSpan BurstAge(SyncPriority priority) => FreshnessBound(priority) - BurstLeadTime;

    /// <summary>Checks every value; throws <see cref="SyncPolicyException"/> (<see cref="SyncPolicyErrorCode.OptionsInvalid"/>) naming the first bad one.</summary>
    public void Validate()
    {
        RequireRange(nameof(CriticalBatteryPercent), CriticalBatteryPercent, 0, 100);
        RequireRange(nameof(LowBatteryPercent), LowBatteryPercent, 0, 100);
        if (CriticalBatteryPercent > LowBatteryPercent)
            Fail($"{nameof(CriticalBatteryPercent)} ({CriticalBatteryPercent}) must not exceed {nameof(LowBatteryPercent)} ({LowBatteryPercent}).");
        RequireRange(nameof(BatteryHysteresisPercent), BatteryHysteresisPercent, 0, 50);
        RequireNonNegative(nameof(PowerRestoreSettleTime), PowerRestoreSettleTime);
        RequireRange(nameof(QuotaNearlyFullFraction), QuotaNearlyFullFraction, 0.01, 1);
        RequireRange(nameof(CostlyLinkQuotaFraction), CostlyLinkQuotaFraction, 0.01, 1);
        if (CostlyLinkQuotaFraction > QuotaNearlyFullFraction)
            Fail($"{nameof(CostlyLinkQuotaFraction)} ({CostlyLinkQuotaFraction}) must not exceed {nameof(QuotaNearlyFullFraction)} ({QuotaNearlyFullFraction}).");
        RequireRange(nameof(QuotaHysteresisFraction), QuotaHysteresisFraction, 0, 0.5);
        if (QuotaHysteresisFraction >= CostlyLinkQuotaFraction)
            Fail($"{nameof(QuotaHysteresisFraction)} ({QuotaHysteresisFraction}) must be below {nameof(CostlyLinkQuotaFraction)} ({CostlyLinkQuotaFraction}).");
        RequireNonNegative(nameof(CostlyLinkBacklogAgeMax), CostlyLinkBacklogAgeMax);
        RequireRange(nameof(WeakSignalDbm), WeakSignalDbm, -200, 0);
        RequireRange(nameof(SignalHysteresisDb), SignalHysteresisDb, 0, 50);
        if (SlowRoundTrip <= TimeSpan.Zero)
            Fail($"{nameof(SlowRoundTrip)} must be positive, got {SlowRoundTrip}.");
        RequireNonNegative(nameof(RoundTripHysteresis), RoundTripHysteresis);
        if (RoundTripHysteresis >= SlowRoundTrip)
            Fail($"{nameof(RoundTripHysteresis)} ({RoundTripHysteresis}) must be below {nameof(SlowRoundTrip)} ({SlowRoundTrip}).");
        if (CriticalBatteryDeferInterval <= TimeSpan.Zero)
            Fail($"{nameof(CriticalBatteryDeferInterval)} must be positive, got {CriticalBatteryDeferInterval}.");
        if (NoLinkDeferInterval <= TimeSpan.Zero)
            Fail($"{nameof(NoLinkDeferInterval)} must be positive, got {NoLinkDeferInterval}.");
        RequireNonNegative(nameof(BurstLeadTime), BurstLeadTime);
        RequireAboveLead(nameof(FreshnessBoundHigh), FreshnessBoundHigh);
        RequireAboveLead(nameof(FreshnessBoundNormal), FreshnessBoundNormal);
        RequireAboveLead(nameof(FreshnessBoundLow), FreshnessBoundLow);
    }

    private void RequireAboveLead(string name, TimeSpan bound)
    {
        if (bound <= BurstLeadTime)
            Fail($"{name} ({bound}) must exceed {nameof(BurstLeadTime)} ({BurstLeadTime}).");
    }

    private static void RequireRange(string name, double value, double minimum, double maximum)
    {
        if (!(value >= minimum && value <= maximum))
            Fail($"{name} must be within {minimum}..{maximum}, got {value}.");
    }

    private static void RequireNonNegative(string name, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
            Fail($"{name} must not be negative, got {value}.");
    }

    private static void Fail(string message) => throw new SyncPolicyException(SyncPolicyErrorCode.OptionsInvalid, $"Sync policy options: {message}");
}
