namespace CortexEdge.Agent.Policy;

/// <summary>One network interface as the sync policy sees it.</summary>
/// <param name="Name">Kernel name, e.g. <c>wlan0</c>.</param>
/// <param name="Kind">What kind of link it is.</param>
/// <param name="IsUp">Whether it can carry traffic: <c>operstate</c> up, or <c>unknown</c> with carrier.</param>
/// <param name="IsMetered">Whether traffic on it costs money (configured, or cellular by default).</param>
/// <param name="HasDefaultRoute">Whether the kernel routes the default destination through it (<c>/proc/net/route</c>).</param>
/// <param name="SignalDbm">Wi-Fi signal level in dBm from <c>/proc/net/wireless</c>, or <c>null</c>.</param>
public sealed record NetworkInterfaceReading(string Name, NetworkInterfaceKind Kind, bool IsUp, bool IsMetered, bool HasDefaultRoute, double? SignalDbm)
{
    /// <summary>Whether this interface can be the link to the broker (physical and up).</summary>
    public bool IsUsableLink => IsUp && Kind is NetworkInterfaceKind.Ethernet or NetworkInterfaceKind.WiFi or NetworkInterfaceKind.Cellular;

    /// <summary>A short description for decision reasons, e.g. <c>wwan0 (cellular, metered)</c>.</summary>
    public override string ToString()
    {
        string kind = Kind switch
        {
            NetworkInterfaceKind.WiFi => "wifi",
            NetworkInterfaceKind.Cellular => "cellular",
            NetworkInterfaceKind.Loopback => "loopback",
            NetworkInterfaceKind.Virtual => "virtual",
            _ => "ethernet",
        };
        string signal = SignalDbm is double dbm ? $", {dbm:0} dBm" : "";
        return $"{Name} ({kind}{(IsMetered ? ", metered" : "")}{signal}{(IsUp ? "" : ", down")})";
    }
}
