using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;

namespace CortexEdge.Agent.Tests.Policy;

public sealed class SysfsNetworkSourceTests
{
    private const string WirelessHeader =
        "Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n" +
        " face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22\n";

    private const string RouteHeader = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

    private static FakeSysfsTree Interface(FakeSysfsTree tree, string name, string operstate, int type = 1, bool device = true, string? carrier = null)
    {
        tree.File($"sys/{name}/operstate", operstate).File($"sys/{name}/type", type.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .File($"sys/{name}/uevent", $"INTERFACE={name}\nIFINDEX=3");
        if (device)
            tree.File($"sys/{name}/device/uevent", "DRIVER=e1000e");
        if (carrier is not null)
            tree.File($"sys/{name}/carrier", carrier);
        return tree;
    }

    private static SysfsNetworkSource Source(FakeSysfsTree tree, IBrokerRoundTripSource? roundTrip = null, params string[] metered) =>
        new(new SysfsNetworkOptions { NetClassRoot = tree.PathOf("sys"), ProcNetRoot = tree.PathOf("proc"), MeteredInterfaces = metered }, roundTrip);

    private static NetworkInterfaceReading Find(NetworkReading reading, string name) => Assert.Single(reading.Interfaces, i => i.Name == name);

    [Fact]
    public void Read_EthernetUpWithDefaultRoute_IsActiveUnmetered()
    {
        using var tree = new FakeSysfsTree();
        Interface(tree, "eth0", "up");
        Interface(tree, "lo", "unknown", type: 772, device: false, carrier: "1");
        tree.File("proc/route", RouteHeader + "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
        NetworkReading reading = Source(tree).Read();
        Assert.Equal("eth0", reading.ActiveLink?.Name);
        Assert.Equal(NetworkInterfaceKind.Ethernet, reading.ActiveLink!.Kind);
        Assert.False(reading.ActiveLink.IsMetered);
        Assert.True(reading.ActiveLink.HasDefaultRoute);
        Assert.Equal(NetworkInterfaceKind.Loopback, Find(reading, "lo").Kind);
        Assert.False(Find(reading, "lo").IsUsableLink);
        Assert.Empty(reading.Problems);
    }

    [Fact]
    public void Read_WifiWithSignal_ClassifiedAndSignalFromProcNetWireless()
    {
        using var tree = new FakeSysfsTree();
        Interface(tree, "wlan0", "up").Dir("sys/wlan0/wireless");
        Interface(tree, "wlan1", "up").File("sys/wlan1/phy80211/name", "phy1");
        Interface(tree, "mlan0", "dormant").File("sys/mlan0/uevent", "DEVTYPE=wlan\nINTERFACE=mlan0");
        tree.File("proc/wireless", WirelessHeader +
            " wlan0: 0000   54.  -56.  -256        0      0      0      0     17        0\n" +
            " wlan1: 0000   20.  -88.  -256        0      0      0      0      0        0\n");
        NetworkReading reading = Source(tree).Read();
        Assert.Equal(NetworkInterfaceKind.WiFi, Find(reading, "wlan0").Kind);
        Assert.Equal(-56, Find(reading, "wlan0").SignalDbm);
        Assert.Equal(NetworkInterfaceKind.WiFi, Find(reading, "wlan1").Kind);
        Assert.Equal(-88, Find(reading, "wlan1").SignalDbm);
        Assert.Equal(NetworkInterfaceKind.WiFi, Find(reading, "mlan0").Kind);
        Assert.False(Find(reading, "mlan0").IsUp);
        Assert.Null(Find(reading, "mlan0").SignalDbm);
        Assert.Equal("wlan0", reading.ActiveLink?.Name);
    }

    [Fact]
    public void Read_CellularVariants_ClassifiedCellularAndMeteredByDefault()
    {
        using var tree = new FakeSysfsTree();
        Interface(tree, "wwan0", "up", type: 519);
        Interface(tree, "ppp0", "unknown", type: 512, device: false, carrier: "1");
        Interface(tree, "usb0", "up").File("sys/usb0/device/uevent", "DEVTYPE=usb_interface\nDRIVER=qmi_wwan");
        Interface(tree, "enx0c5b8f279a64", "down").File("sys/enx0c5b8f279a64/uevent", "DEVTYPE=wwan");
        Interface(tree, "rmnet_data0", "up", type: 519, device: false);
        NetworkReading reading = Source(tree).Read();
        foreach (string name in new[] { "wwan0", "ppp0", "usb0", "enx0c5b8f279a64", "rmnet_data0" })
        {
            Assert.Equal(NetworkInterfaceKind.Cellular, Find(reading, name).Kind);
            Assert.True(Find(reading, name).IsMetered, name);
        }
        Assert.True(Find(reading, "ppp0").IsUp);
        Assert.False(Find(reading, "enx0c5b8f279a64").IsUp);
        Assert.Equal(NetworkInterfaceKind.Cellular, reading.ActiveLink?.Kind);
    }

    [Fact]
    public void Read_CellularNotMeteredWhenConfiguredSo()
    {
        using var tree = new FakeSysfsTree();
        Interface(tree, "wwan0", "up", type: 519);
        var source = new SysfsNetworkSource(new SysfsNetworkOptions { NetClassRoot = tree.PathOf("sys"), ProcNetRoot = tree.PathOf("proc"), CellularIsMetered = false });
        Assert.False(source.Read().ActiveLink!.IsMetered);
    }

    [Fact]
    public void Read_ConfiguredMeteredNamesAndPrefixes()
    {
        using var tree = new FakeSysfsTree();
        Interface(tree, "eth0", "up");
        Interface(tree, "eth1", "up");
        Interface(tree, "usbeth3", "up");
        NetworkReading reading = Source(tree, null, "eth1", "usb*").Read();
        Assert.False(Find(reading, "eth0").IsMetered);
        Assert.True(Find(reading, "eth1").IsMetered);
        Assert.True(Find(reading, "usbeth3").IsMetered);
        // Without routes, an unmetered link is preferred.
        Assert.Equal("eth0", reading.ActiveLink?.Name);
    }

    [Fact]
    public void Read_AllDown_NoActiveLink()
    {
        using var tree = new FakeSysfsTree();
        Interface(tree, "eth0", "down");
        Interface(tree, "wlan0", "dormant").Dir("sys/wlan0/wireless");
        Interface(tree, "wwan0", "lowerlayerdown", type: 519);
        Interface(tree, "ppp0", "unknown", type: 512, device: false, carrier: "0");
        Interface(tree, "lo", "unknown", type: 772, device: false, carrier: "1");
        NetworkReading reading = Source(tree).Read();
        Assert.Null(reading.ActiveLink);
        Assert.All(reading.Interfaces, i => Assert.False(i.IsUsableLink));
        Assert.Equal("no link up", reading.ToString());
    }

    [Fact]
    public void Read_VirtualInterfacesNeverTheLink()
    {
        using var tree = new FakeSysfsTree();
        Interface(tree, "docker0", "up", device: false).Dir("sys/docker0/bridge");
        Interface(tree, "veth12ab", "up", device: false);
        NetworkReading reading = Source(tree).Read();
        Assert.All(reading.Interfaces, i => Assert.Equal(NetworkInterfaceKind.Virtual, i.Kind));
        Assert.Null(reading.ActiveLink);
    }

    [Fact]
    public void Read_DefaultRouteDecidesTheLink_LanEthernetIsNotTheUplink()
    {
        using var tree = new FakeSysfsTree();
        Interface(tree, "eth0", "up");
        Interface(tree, "wwan0", "up", type: 519);
        Interface(tree, "wlan0", "up").Dir("sys/wlan0/wireless");
        tree.File("proc/route", RouteHeader +
            "eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
            "wwan0\t00000000\t00000000\t0001\t0\t0\t700\t00000000\t0\t0\t0\n" +
            "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" +
            "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t900\t00000000\t0\t0\t0\n");
        NetworkReading reading = Source(tree).Read();
        Assert.Equal("wlan0", reading.ActiveLink?.Name);
        Assert.False(Find(reading, "eth0").HasDefaultRoute);

        // Wi-Fi goes down: the cellular default route takes over, not the LAN-side Ethernet.
        tree.File("sys/wlan0/operstate", "down");
        Assert.Equal("wwan0", Source(tree).Read().ActiveLink?.Name);
    }

    [Fact]
    public void Read_RoundTripComesFromTheTracker()
    {
        using var tree = new FakeSysfsTree();
        Interface(tree, "eth0", "up");
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var tracker = new BrokerRoundTripTracker(timeProvider: clock);
        Assert.Null(Source(tree, tracker).Read().BrokerRoundTrip);
        tracker.Record(TimeSpan.FromMilliseconds(120));
        NetworkReading reading = Source(tree, tracker).Read();
        Assert.Equal(TimeSpan.FromMilliseconds(120), reading.BrokerRoundTrip);
        Assert.Equal("link eth0 (ethernet), broker round trip 120 ms", reading.ToString());
    }

    [Fact]
    public void Read_MalformedFiles_UnknownWithProblemsNeverThrows()
    {
        using var tree = new FakeSysfsTree();
        Interface(tree, "eth0", "sideways");
        tree.File("sys/eth1/type", "ethernet").File("sys/eth1/operstate", "up").File("sys/eth1/device/uevent", "garbage without equals");
        tree.File("sys/eth2/type", "1").File("sys/eth2/device/uevent", "DRIVER=r8169");
        Interface(tree, "wlan0", "up").Dir("sys/wlan0/wireless");
        tree.File("proc/wireless", WirelessHeader + " wlan0 0000 54. -56.\n wlan0: 0000 x. y. z.\n: 1 2 3 4\n");
        tree.File("proc/route", RouteHeader + "eth1\tnothex\t0\t0003\t0\t0\t0\t00000000\n short line\n");
        NetworkReading reading = Source(tree).Read();
        Assert.False(Find(reading, "eth0").IsUp);
        Assert.True(Find(reading, "eth1").IsUp);
        Assert.Equal(NetworkInterfaceKind.Ethernet, Find(reading, "eth1").Kind);
        Assert.False(Find(reading, "eth2").IsUp);
        Assert.Null(Find(reading, "wlan0").SignalDbm);
        Assert.Contains(reading.Problems, p => p.Contains("sideways", StringComparison.Ordinal));
        Assert.Contains(reading.Problems, p => p.Contains(tree.PathOf("sys/eth1/type"), StringComparison.Ordinal));
        Assert.Contains(reading.Problems, p => p.Contains(tree.PathOf("proc/wireless") + " line 3", StringComparison.Ordinal));
        Assert.Contains(reading.Problems, p => p.Contains(tree.PathOf("proc/route") + " line 2", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_RootsMissing_OfflineNoProblems()
    {
        using var tree = new FakeSysfsTree();
        NetworkReading reading = Source(tree).Read();
        Assert.Empty(reading.Interfaces);
        Assert.Null(reading.ActiveLink);
        Assert.Empty(reading.Problems);
    }

    [Fact]
    public void Read_RandomGarbageTrees_NeverThrowsLinkAlwaysUsable()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        string[] names = ["eth0", "wlan0", "wwan0", "ppp0", "lo", "usb0", "br0"];
        string[] pool = ["", "up", "down", "unknown", "dormant", "1", "0", "519", "772", "512", "x", "DEVTYPE=wlan", "DRIVER=qmi_wwan", "\0", "-1", "99999999999999999999"];
        for (int round = 0; round < 60; round++)
        {
            using var tree = new FakeSysfsTree();
            foreach (string name in names)
            {
                if (random.Next(3) == 0)
                    continue;
                foreach (string file in new[] { "operstate", "carrier", "type", "uevent", "device/uevent" })
                {
                    if (random.Next(3) != 0)
                        tree.File($"sys/{name}/{file}", pool[random.Next(pool.Length)], newline: random.Next(2) == 0);
                }
                if (random.Next(4) == 0)
                    tree.Dir($"sys/{name}/wireless");
                tree.Dir($"sys/{name}");
            }
            if (random.Next(2) == 0)
                tree.File("proc/wireless", string.Join('\n', Enumerable.Range(0, random.Next(6)).Select(_ => $" {names[random.Next(names.Length)]}: {pool[random.Next(pool.Length)]} {random.Next(-300, 300)}. {random.Next(-300, 300)}.")));
            if (random.Next(2) == 0)
                tree.File("proc/route", "Iface\n" + string.Join('\n', Enumerable.Range(0, random.Next(6)).Select(_ => $"{names[random.Next(names.Length)]}\t{(random.Next(2) == 0 ? "00000000" : "zz")}\t0\t{random.Next(4):X4}\t0\t0\t{random.Next(1000)}\t00000000")));
            NetworkReading reading = Source(tree).Read();
            Assert.True(reading.ActiveLink is null || reading.ActiveLink.IsUsableLink, $"seed {seed} round {round}: active link {reading.ActiveLink}");
            Assert.All(reading.Interfaces, i => Assert.True(i.SignalDbm is null or (>= -200 and <= 0), $"seed {seed} round {round}: {i}"));
        }
    }

    [Fact]
    public void Read_ThisMachine_LoopbackIsNeverTheLink()
    {
        NetworkReading reading = new SysfsNetworkSource().Read();
        Assert.DoesNotContain(reading.Interfaces, i => i.Name == "lo" && i.Kind != NetworkInterfaceKind.Loopback);
        Assert.NotEqual("lo", reading.ActiveLink?.Name);
    }
}
