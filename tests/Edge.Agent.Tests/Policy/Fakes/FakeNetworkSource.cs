using CortexEdge.Agent.Policy;

namespace CortexEdge.Agent.Tests.Policy.Fakes;

/// <summary>A network the test sets directly.</summary>
internal sealed class FakeNetworkSource : INetworkSource
{
    public NetworkReading Current { get; set; } = NetworkReading.Offline;

    public NetworkReading Read() => Current;

    public static NetworkReading Link(NetworkInterfaceKind kind, bool metered = false, double? signalDbm = null, TimeSpan? roundTrip = null, string? name = null)
    {
        name ??= kind switch
        {
            NetworkInterfaceKind.WiFi => "wlan0",
            NetworkInterfaceKind.Cellular => "wwan0",
            _ => "eth0",
        };
        var link = new NetworkInterfaceReading(name, kind, true, metered, true, signalDbm);
        return new NetworkReading([link], link, roundTrip, []);
    }

    public static NetworkReading AllDown()
    {
        var eth = new NetworkInterfaceReading("eth0", NetworkInterfaceKind.Ethernet, false, false, false, null);
        var wwan = new NetworkInterfaceReading("wwan0", NetworkInterfaceKind.Cellular, false, true, false, null);
        return new NetworkReading([eth, wwan], null, null, []);
    }
}
