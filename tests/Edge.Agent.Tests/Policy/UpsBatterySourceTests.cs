using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;

namespace CortexEdge.Agent.Tests.Policy;

public sealed class UpsBatterySourceTests
{
    [Fact]
    public void Read_MainsLostWithoutGauge_BatteryDischargingExternalOffline()
    {
        var mains = new FakeMainsPowerSource { State = MainsPowerState.Lost };
        BatteryReading reading = new UpsBatterySource(new FakeBatterySource(), mains).Read();
        Assert.True(reading.HasBattery);
        Assert.Null(reading.CapacityPercent);
        Assert.Equal(ExternalPowerState.Offline, reading.ExternalPower);
        Assert.True(reading.IsDischarging);
        Assert.Equal(["fake-gpiochip0 line 4"], reading.Sources);
    }

    [Fact]
    public void Read_MainsLostOverridesStaleChargingStatus()
    {
        var inner = new FakeBatterySource { Current = FakeBatterySource.Charging(70) };
        BatteryReading reading = new UpsBatterySource(inner, new FakeMainsPowerSource { State = MainsPowerState.Lost }).Read();
        Assert.Equal(BatteryChargeState.Discharging, reading.ChargeState);
        Assert.Equal(70, reading.CapacityPercent);
    }

    [Fact]
    public void Read_MainsPresent_ExternalOnlineStatusKept()
    {
        var inner = new FakeBatterySource { Current = FakeBatterySource.Charging(40) };
        BatteryReading reading = new UpsBatterySource(inner, new FakeMainsPowerSource { State = MainsPowerState.Present }).Read();
        Assert.Equal(ExternalPowerState.Online, reading.ExternalPower);
        Assert.Equal(BatteryChargeState.Charging, reading.ChargeState);
        Assert.False(reading.IsDischarging);
    }

    [Fact]
    public void Read_MainsUnknown_InnerReadingWithProblem()
    {
        var inner = new FakeBatterySource { Current = FakeBatterySource.Discharging(50) };
        BatteryReading reading = new UpsBatterySource(inner, new FakeMainsPowerSource { State = MainsPowerState.Unknown }).Read();
        Assert.Equal(inner.Current with { Problems = reading.Problems }, reading);
        Assert.Contains("fake-gpiochip0 line 4: mains state unknown", reading.Problems);
    }
}
