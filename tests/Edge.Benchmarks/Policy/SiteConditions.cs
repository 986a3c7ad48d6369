using CortexEdge.Agent.Policy;

namespace CortexEdge.Benchmarks.Policy;

/// <summary>A sensor site's battery and link from one second of a recorded day on (one row of site-day.csv).</summary>
internal sealed record SiteConditions(int Second, int BatteryPercent, BatteryChargeState Charge, NetworkInterfaceKind? Link, bool Metered, double? SignalDbm, int? RoundTripMs)
{
    /// <summary>Whether a link is up.</summary>
    public bool LinkUp => Link is not null;

    /// <summary>Whether the battery is at or below the default critical threshold and discharging (nothing may go).</summary>
    public bool CriticalBattery => BatteryPercent <= 10 && Charge == BatteryChargeState.Discharging;

    /// <summary>The policy inputs these conditions give with <paramref name="backlog"/>.</summary>
    public SyncPolicyInputs ToInputs(BacklogSnapshot backlog)
    {
        bool discharging = Charge == BatteryChargeState.Discharging;
        var battery = new BatteryReading(true, BatteryPercent, Charge, discharging ? ExternalPowerState.Offline : ExternalPowerState.Online, ["BAT0"], []);
        NetworkInterfaceReading? link = Link is { } kind
            ? new NetworkInterfaceReading(kind == NetworkInterfaceKind.WiFi ? "wlan0" : "wwan0", kind, true, Metered, true, SignalDbm)
            : null;
        var network = new NetworkReading(link is null ? [] : [link], link, RoundTripMs is int ms ? TimeSpan.FromMilliseconds(ms) : null, []);
        return new SyncPolicyInputs(battery, network, backlog);
    }
}
