namespace CortexEdge.Agent.Policy;

/// <summary>
/// A battery reading whose external-power state comes from a UPS hat's mains line: the charge
/// still comes from the inner source (a fuel gauge in <c>/sys/class/power_supply</c>, when the hat
/// has a kernel driver), while mains lost / present overrides what sysfs says about external power.
/// With mains lost and the battery's own status unknown, the battery is taken to be discharging.
/// Thread safe when the inner sources are.
/// </summary>
public sealed class UpsBatterySource : IBatterySource
{
    private readonly IBatterySource _battery;
    private readonly IMainsPowerSource _mains;

    /// <summary>Combines a battery reader with a mains line.</summary>
    public UpsBatterySource(IBatterySource battery, IMainsPowerSource mains)
    {
        ArgumentNullException.ThrowIfNull(battery);
        ArgumentNullException.ThrowIfNull(mains);
        _battery = battery;
        _mains = mains;
    }

    /// <inheritdoc />
    public BatteryReading Read()
    {
        BatteryReading inner = _battery.Read();
        MainsPowerState mains = _mains.State;
        if (mains == MainsPowerState.Unknown)
            return inner with { Problems = [.. inner.Problems, $"{_mains.Description}: mains state unknown"] };

        ExternalPowerState external = mains == MainsPowerState.Present ? ExternalPowerState.Online : ExternalPowerState.Offline;
        BatteryChargeState state = inner.ChargeState;
        if (mains == MainsPowerState.Lost && state is BatteryChargeState.Unknown or BatteryChargeState.Charging or BatteryChargeState.Full or BatteryChargeState.NotCharging)
            state = BatteryChargeState.Discharging;
        // A UPS hat without a fuel-gauge driver still has a battery behind the mains line.
        return inner with
        {
            HasBattery = true,
            ChargeState = state,
            ExternalPower = external,
            Sources = [.. inner.Sources, _mains.Description],
        };
    }
}
