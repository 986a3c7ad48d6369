namespace CortexEdge.Agent.Policy;

/// <summary>What kind of link a network interface is, as far as sync cost is concerned.</summary>
public enum NetworkInterfaceKind
{
    /// <summary>Wired (or anything physical not recognised as Wi-Fi or cellular).</summary>
    Ethernet = 0,

    /// <summary>802.11: has a <c>wireless</c> or <c>phy80211</c> entry, or <c>DEVTYPE=wlan</c>.</summary>
    WiFi,

    /// <summary>Mobile data: <c>wwan*</c>/<c>ppp*</c>, ARPHRD_RAWIP (519) or PPP (512), <c>DEVTYPE=wwan</c>, or a USB modem / tethering driver.</summary>
    Cellular,

    /// <summary>The loopback interface; never a link to the broker.</summary>
    Loopback,

    /// <summary>A software interface with no device behind it (bridge, veth, ifb, tun); not counted as a link.</summary>
    Virtual,
}
