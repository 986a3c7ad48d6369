using CortexEdge.Agent.Policy;

namespace CortexEdge.Agent.Tests.Policy.Fakes;

/// <summary>A battery the test sets directly (a solar day, a drained pack).</summary>
internal sealed class FakeBatterySource : IBatterySource
{
    public BatteryReading Current { get; set; } = BatteryReading.None;

    public int ReadCount { get; private set; }

    public BatteryReading Read()
    {
        ReadCount++;
        return Current;
    }

    public static BatteryReading Discharging(int percent) =>
        new(true, percent, BatteryChargeState.Discharging, ExternalPowerState.Offline, ["BAT0"], []);

    public static BatteryReading Charging(int percent) =>
        new(true, percent, BatteryChargeState.Charging, ExternalPowerState.Online, ["BAT0", "solar"], []);
}
