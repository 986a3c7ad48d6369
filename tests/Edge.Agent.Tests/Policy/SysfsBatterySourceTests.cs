using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;

namespace CortexEdge.Agent.Tests.Policy;

public sealed class SysfsBatterySourceTests
{
    private static FakeSysfsTree Battery(FakeSysfsTree tree, string name, string? capacity, string? status, string scope = "System")
    {
        tree.File($"{name}/type", "Battery").File($"{name}/present", "1").File($"{name}/scope", scope);
        if (capacity is not null)
            tree.File($"{name}/capacity", capacity);
        if (status is not null)
            tree.File($"{name}/status", status);
        return tree;
    }

    private static FakeSysfsTree Supply(FakeSysfsTree tree, string name, string type, string online) =>
        tree.File($"{name}/type", type).File($"{name}/online", online);

    [Fact]
    public void Read_RootMissing_NoBatteryNothingKnown()
    {
        using var tree = new FakeSysfsTree();
        BatteryReading reading = new SysfsBatterySource(tree.PathOf("absent")).Read();
        Assert.False(reading.HasBattery);
        Assert.Null(reading.CapacityPercent);
        Assert.Equal(ExternalPowerState.Unknown, reading.ExternalPower);
        Assert.False(reading.IsDischarging);
        Assert.Empty(reading.Problems);
    }

    [Fact]
    public void Read_EmptyClass_NoBattery()
    {
        using var tree = new FakeSysfsTree();
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.False(reading.HasBattery);
        Assert.Empty(reading.Sources);
    }

    [Fact]
    public void Read_MainsOnlyBoard_NoBatteryExternalOnline()
    {
        using var tree = new FakeSysfsTree();
        Supply(tree, "rpi-poe", "Mains", "1");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.False(reading.HasBattery);
        Assert.Equal(ExternalPowerState.Online, reading.ExternalPower);
        Assert.False(reading.IsDischarging);
    }

    [Fact]
    public void Read_SingleBatteryDischarging_ReportsCapacityAndState()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", "42", "Discharging");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.True(reading.HasBattery);
        Assert.Equal(42, reading.CapacityPercent);
        Assert.Equal(BatteryChargeState.Discharging, reading.ChargeState);
        Assert.True(reading.IsDischarging);
        Assert.Equal(["BAT0"], reading.Sources);
        Assert.Empty(reading.Problems);
        Assert.Equal("battery 42% discharging, external power unknown", reading.ToString());
    }

    [Fact]
    public void Read_BatteryWithAcOnline_ChargingExternalOnline()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", "77", "Charging");
        Supply(tree, "AC", "Mains", "1");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.Equal(BatteryChargeState.Charging, reading.ChargeState);
        Assert.Equal(ExternalPowerState.Online, reading.ExternalPower);
        Assert.False(reading.IsDischarging);
        Assert.Equal(["AC", "BAT0"], reading.Sources);
    }

    [Fact]
    public void Read_AcOfflineStatusUnknown_CountsAsDischarging()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "battery", "55", "Unknown");
        Supply(tree, "ac", "Mains", "0");
        Supply(tree, "usb", "USB", "0");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.Equal(BatteryChargeState.Unknown, reading.ChargeState);
        Assert.Equal(ExternalPowerState.Offline, reading.ExternalPower);
        Assert.True(reading.IsDischarging);
    }

    [Fact]
    public void Read_NotChargingOnMains_IsNotDischarging()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", "80", "Not charging");
        Supply(tree, "ADP1", "Mains", "1");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.Equal(BatteryChargeState.NotCharging, reading.ChargeState);
        Assert.False(reading.IsDischarging);
    }

    [Theory]
    [InlineData("USB_C")]
    [InlineData("USB_PD")]
    [InlineData("Wireless")]
    [InlineData("UPS")]
    public void Read_OtherExternalSupplyTypes_CountAsExternalPower(string type)
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", "60", "Full");
        Supply(tree, "charger", type, "1");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.Equal(ExternalPowerState.Online, reading.ExternalPower);
        Assert.Equal(BatteryChargeState.Full, reading.ChargeState);
    }

    [Fact]
    public void Read_TwoBatteriesWithEnergyFull_WeightedByEnergy()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", "80", "Discharging").File("BAT0/energy_full", "10000000");
        Battery(tree, "BAT1", "20", "Discharging").File("BAT1/energy_full", "30000000");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        // (80 * 10 + 20 * 30) / 40 = 35
        Assert.Equal(35, reading.CapacityPercent);
        Assert.Equal(["BAT0", "BAT1"], reading.Sources);
    }

    [Fact]
    public void Read_TwoBatteriesWithoutFullEnergy_Averaged()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", "90", "Charging");
        Battery(tree, "BAT1", "40", "Discharging");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.Equal(65, reading.CapacityPercent);
        // One pack discharging means the device is drawing from batteries.
        Assert.Equal(BatteryChargeState.Discharging, reading.ChargeState);
    }

    [Fact]
    public void Read_NoCapacityButEnergyCounters_ComputesPercent()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", null, "Discharging").File("BAT0/energy_full", "40000000").File("BAT0/energy_now", "10000000");
        Assert.Equal(25, new SysfsBatterySource(tree.Root).Read().CapacityPercent);
    }

    [Fact]
    public void Read_NoCapacityButChargeCounters_ComputesPercent()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", null, "Discharging").File("BAT0/charge_full", "2000000").File("BAT0/charge_now", "1500000");
        Assert.Equal(75, new SysfsBatterySource(tree.Root).Read().CapacityPercent);
    }

    [Fact]
    public void Read_DeviceScopeAndAbsentBatteries_Ignored()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "hid-mouse-battery", "5", "Discharging", scope: "Device");
        Battery(tree, "BAT1", "3", "Discharging").File("BAT1/present", "0");
        Battery(tree, "BAT0", "88", "Discharging");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.Equal(88, reading.CapacityPercent);
        Assert.Equal(["BAT0"], reading.Sources);
    }

    [Fact]
    public void Read_SymlinkedSupplies_LikeRealSysfs()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "devices/i2c-1/1-0036/power_supply/max17040", "64", "Discharging");
        Supply(tree, "devices/platform/gpio-charger/power_supply/mains", "Mains", "0");
        tree.Dir("class/power_supply");
        tree.Symlink("class/power_supply/max17040", tree.PathOf("devices/i2c-1/1-0036/power_supply/max17040"));
        tree.Symlink("class/power_supply/mains", tree.PathOf("devices/platform/gpio-charger/power_supply/mains"));
        BatteryReading reading = new SysfsBatterySource(tree.PathOf("class/power_supply")).Read();
        Assert.Equal(64, reading.CapacityPercent);
        Assert.Equal(ExternalPowerState.Offline, reading.ExternalPower);
        Assert.True(reading.IsDischarging);
    }

    [Theory]
    [InlineData("abc", "is not an integer")]
    [InlineData("150", "outside 0..100")]
    [InlineData("-3", "outside 0..100")]
    [InlineData("", "is not an integer")]
    [InlineData("99999999999999999999999", "is not an integer")]
    public void Read_MalformedCapacity_UnknownWithProblemNamingFile(string capacity, string expected)
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", capacity, "Discharging");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.True(reading.HasBattery);
        Assert.Null(reading.CapacityPercent);
        string problem = Assert.Single(reading.Problems);
        Assert.Contains(tree.PathOf("BAT0/capacity"), problem);
        Assert.Contains(expected, problem);
        Assert.Equal("battery unknown charge discharging, external power unknown", reading.ToString());
    }

    [Fact]
    public void Read_UnknownStatusText_UnknownWithProblem()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", "50", "Exploding\u0001");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.Equal(BatteryChargeState.Unknown, reading.ChargeState);
        Assert.Contains(reading.Problems, p => p.Contains("not a known battery status", StringComparison.Ordinal) && p.Contains("Exploding?", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_MissingTypeAndMalformedOnline_SupplyIgnoredWithProblems()
    {
        using var tree = new FakeSysfsTree();
        tree.File("mystery/capacity", "10");
        Supply(tree, "AC", "Mains", "yes");
        Battery(tree, "BAT0", "70", "Discharging");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.Equal(70, reading.CapacityPercent);
        Assert.Equal(ExternalPowerState.Unknown, reading.ExternalPower);
        Assert.Contains(reading.Problems, p => p.Contains(tree.PathOf("mystery/type"), StringComparison.Ordinal) && p.Contains("ignored", StringComparison.Ordinal));
        Assert.Contains(reading.Problems, p => p.Contains(tree.PathOf("AC/online"), StringComparison.Ordinal));
    }

    [Fact]
    public void Read_AttributeIsADirectory_ProblemNotCrash()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", null, "Discharging").Dir("BAT0/capacity");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.Null(reading.CapacityPercent);
        Assert.Contains(reading.Problems, p => p.Contains(tree.PathOf("BAT0/capacity"), StringComparison.Ordinal));
    }

    [Fact]
    public void Read_OversizedAttribute_ReadsAtMostOnePage()
    {
        using var tree = new FakeSysfsTree();
        Battery(tree, "BAT0", new string('7', 100_000), "Discharging");
        BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
        Assert.Null(reading.CapacityPercent);
        Assert.Contains(reading.Problems, p => p.Contains("...", StringComparison.Ordinal) && p.Length < 400);
    }

    [Fact]
    public void Read_RandomGarbageInEveryFile_NeverThrowsValuesInRange()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        string[] pool = ["", "0", "1", "100", "101", "-1", "Charging", "Discharging", "Full", "Not charging", "Battery", "Mains", "USB", "\0\0", "x\ny", "  42  ", "4.2", "Device", "System", "999999999999"];
        string[] files = ["type", "scope", "present", "capacity", "status", "online", "energy_full", "energy_now", "charge_full", "charge_now"];
        for (int round = 0; round < 60; round++)
        {
            using var tree = new FakeSysfsTree();
            int supplies = random.Next(0, 4);
            for (int s = 0; s < supplies; s++)
            {
                foreach (string file in files)
                {
                    if (random.Next(3) == 0)
                        continue;
                    string value = random.Next(4) == 0 ? RandomText(random) : pool[random.Next(pool.Length)];
                    tree.File($"sup{s}/{file}", value, newline: random.Next(2) == 0);
                }
            }
            BatteryReading reading = new SysfsBatterySource(tree.Root).Read();
            Assert.True(reading.CapacityPercent is null or >= 0 and <= 100, $"seed {seed} round {round}: capacity {reading.CapacityPercent}");
            Assert.True(reading.HasBattery || reading.CapacityPercent is null, $"seed {seed} round {round}: capacity without a battery");
        }
    }

    [Fact]
    public void Read_ThisMachine_NeverThrowsValuesInRange()
    {
        // Whatever this machine has (often no supply at all on a build server), the reading is sane.
        BatteryReading reading = new SysfsBatterySource().Read();
        Assert.True(reading.CapacityPercent is null or >= 0 and <= 100, reading.ToString());
        Assert.True(reading.HasBattery || !reading.IsDischarging, reading.ToString());
    }

    private static string RandomText(Random random)
    {
        var chars = new char[random.Next(0, 30)];
        for (int i = 0; i < chars.Length; i++)
            chars[i] = (char)random.Next(1, 0x250);
        return new string(chars);
    }
}
