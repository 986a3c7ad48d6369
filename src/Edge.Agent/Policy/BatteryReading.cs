namespace CortexEdge.Agent.Policy;

/// <summary>
/// One reading of the device's power: the battery charge (aggregated over every system battery)
/// and whether external power is present. Values the source could not read are <c>null</c> or
/// <c>Unknown</c>, and <see cref="Problems"/> says why; a reading never fails.
/// </summary>
/// <param name="HasBattery">Whether at least one system battery is present.</param>
/// <param name="CapacityPercent">Remaining charge, 0-100, or <c>null</c> when unknown.</param>
/// <param name="ChargeState">What the battery is doing.</param>
/// <param name="ExternalPower">Whether external power is present.</param>
/// <param name="Sources">The supplies or lines the reading came from (e.g. <c>BAT0</c>, <c>AC</c>, <c>gpiochip0:17</c>).</param>
/// <param name="Problems">Values that were missing or malformed, each naming its file; empty when all read cleanly.</param>
public sealed record BatteryReading(
    bool HasBattery,
    int? CapacityPercent,
    BatteryChargeState ChargeState,
    ExternalPowerState ExternalPower,
    IReadOnlyList<string> Sources,
    IReadOnlyList<string> Problems)
{
    /// <summary>A device with no battery and nothing known about its supply (assumed mains powered).</summary>
    public static BatteryReading None { get; } = new(false, null, BatteryChargeState.Unknown, ExternalPowerState.Unknown, [], []);

    /// <summary>
    /// Whether the device is running down its battery: the battery says <c>Discharging</c>, or its
    /// state is unknown or <c>Not charging</c> while every external supply is offline. A device
    /// without a battery never discharges.
    /// </summary>
    public bool IsDischarging => HasBattery && (ChargeState == BatteryChargeState.Discharging
        || (ChargeState is BatteryChargeState.Unknown or BatteryChargeState.NotCharging && ExternalPower == ExternalPowerState.Offline));

    /// <summary>A one-line description for decision reasons, e.g. <c>battery 23% discharging, external power offline</c>.</summary>
    public override string ToString()
    {
        if (!HasBattery)
            return ExternalPower == ExternalPowerState.Unknown ? "no battery" : $"no battery, external power {Describe(ExternalPower)}";
        string capacity = CapacityPercent is int percent ? $"{percent}%" : "unknown charge";
        return $"battery {capacity} {Describe(ChargeState)}, external power {Describe(ExternalPower)}";
    }

    private static string Describe(BatteryChargeState state) => state switch
    {
        BatteryChargeState.Charging => "charging",
        BatteryChargeState.Discharging => "discharging",
        BatteryChargeState.NotCharging => "not charging",
        BatteryChargeState.Full => "full",
        _ => "state unknown",
    };

    private static string Describe(ExternalPowerState state) => state switch
    {
        ExternalPowerState.Online => "online",
        ExternalPowerState.Offline => "offline",
        _ => "unknown",
    };
}
