using CortexEdge.Agent.Configuration;

namespace CortexEdge.Agent.Policy;

/// <summary>Where <see cref="SysfsNetworkSource"/> reads and which links count as metered.</summary>
public sealed record SysfsNetworkOptions
{
    /// <summary>The network class directory; default <c>/sys/class/net</c> (tests point it at a fake tree).</summary>
    public string NetClassRoot { get; init; } = "/sys/class/net";

    /// <summary>The directory holding <c>wireless</c> and <c>route</c>; default <c>/proc/net</c>.</summary>
    public string ProcNetRoot { get; init; } = "/proc/net";

    /// <summary>
    /// Interfaces the operator marks metered: exact names, or prefixes ending in <c>*</c>
    /// (<c>wwan*</c>). Empty by default.
    /// </summary>
    public IReadOnlyList<string> MeteredInterfaces { get; init; } = [];

    /// <summary>Whether every cellular link counts as metered even if not listed; default true.</summary>
    public bool CellularIsMetered { get; init; } = true;

    /// <summary>
    /// Kernel drivers (from <c>device/uevent</c> <c>DRIVER=</c>) of USB modems and phone tethering,
    /// whose interfaces are cellular whatever their name.
    /// </summary>
    public IReadOnlyList<string> CellularDrivers { get; init; } = ["qmi_wwan", "cdc_mbim", "huawei_cdc_ncm", "sierra_net", "rndis_host", "ipheth"];

    /// <summary>Whether <paramref name="interfaceName"/> matches <see cref="MeteredInterfaces"/>.</summary>
    public bool IsConfiguredMetered(string interfaceName)
    {
        foreach (string pattern in MeteredInterfaces)
        {
            if (NamePattern.Matches(pattern, interfaceName))
                return true;
        }
        return false;
    }
}
