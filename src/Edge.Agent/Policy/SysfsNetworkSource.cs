namespace CortexEdge.Agent.Policy;

/// <summary>
/// Reads network interfaces from <c>/sys/class/net/*</c>, Wi-Fi signal from
/// <c>/proc/net/wireless</c> and default routes from <c>/proc/net/route</c>, and adds the broker
/// round trip the sync layer measured. Per interface:
/// <list type="bullet">
/// <item>kind: Wi-Fi when a <c>wireless</c> or <c>phy80211</c> entry exists or <c>uevent</c> says
/// <c>DEVTYPE=wlan</c>; cellular for <c>wwan*</c>/<c>ppp*</c>, <c>type</c> 519 (RAWIP) or 512 (PPP),
/// <c>DEVTYPE=wwan</c>, or a USB-modem driver in <c>device/uevent</c>; loopback for <c>type</c> 772;
/// virtual when there is no <c>device</c> entry (bridge, veth, ifb); Ethernet otherwise;</item>
/// <item>up: <c>operstate</c> is <c>up</c>, or <c>unknown</c> (ppp, some drivers) with <c>carrier</c> 1.</item>
/// </list>
/// Thread safe (no state besides the options).
/// </summary>
public sealed class SysfsNetworkSource : INetworkSource
{
    private const int ArphrdPpp = 512;
    private const int ArphrdRawIp = 519;
    private const int ArphrdLoopback = 772;

    private readonly SysfsNetworkOptions _options;
    private readonly IBrokerRoundTripSource? _roundTrip;

    /// <summary>Creates a reader.</summary>
    /// <param name="options">Roots and metered links; default reads the real /sys and /proc.</param>
    /// <param name="roundTrip">The sync layer's round-trip measurements, or <c>null</c> when there is no broker connection yet.</param>
    public SysfsNetworkSource(SysfsNetworkOptions? options = null, IBrokerRoundTripSource? roundTrip = null)
    {
        _options = options ?? new SysfsNetworkOptions();
        _roundTrip = roundTrip;
    }

    /// <inheritdoc />
    public NetworkReading Read()
    {
        var problems = new List<string>();
        Dictionary<string, WirelessStatsTable.Entry> wireless = ReadTable(Path.Combine(_options.ProcNetRoot, "wireless"), problems,
            static (text, p, source) => WirelessStatsTable.Parse(text, p, source)) ?? [];
        Dictionary<string, long>? routes = ReadTable(Path.Combine(_options.ProcNetRoot, "route"), problems,
            static (text, p, source) => KernelRouteTable.ParseDefaultRoutes(text, p, source));

        string[] directories;
        try
        {
            directories = Directory.Exists(_options.NetClassRoot) ? Directory.GetDirectories(_options.NetClassRoot) : [];
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{_options.NetClassRoot}: cannot list interfaces ({exception.Message})");
            directories = [];
        }
        Array.Sort(directories, StringComparer.Ordinal);

        var interfaces = new List<NetworkInterfaceReading>(directories.Length);
        foreach (string directory in directories)
        {
            string name = Path.GetFileName(directory);
            NetworkInterfaceKind kind = Classify(directory, name, problems);
            bool up = ReadIsUp(directory, problems);
            bool metered = _options.IsConfiguredMetered(name) || (_options.CellularIsMetered && kind == NetworkInterfaceKind.Cellular);
            double? signal = kind == NetworkInterfaceKind.WiFi && wireless.TryGetValue(name, out WirelessStatsTable.Entry entry) ? entry.SignalDbm : null;
            bool hasDefaultRoute = routes is not null && routes.ContainsKey(name);
            interfaces.Add(new NetworkInterfaceReading(name, kind, up, metered, hasDefaultRoute, signal));
        }
        return new NetworkReading(interfaces, NetworkReading.SelectActiveLink(interfaces, routes), _roundTrip?.RoundTrip, problems);
    }

    private static T? ReadTable<T>(string path, List<string> problems, Func<string, List<string>, string, T> parse)
        where T : class
    {
        // /proc/net/wireless is absent without wireless extensions, /proc/net/route without IPv4: both are normal.
        const int TableBytesMax = 64 * 1024;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            var buffer = new byte[TableBytesMax];
            int total = 0;
            int read;
            while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
                total += read;
            if (total == buffer.Length)
                problems.Add($"{path}: longer than {TableBytesMax} bytes; the rest is ignored");
            return parse(System.Text.Encoding.UTF8.GetString(buffer, 0, total), problems, path);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{path}: unreadable ({exception.Message})");
            return null;
        }
    }

    private NetworkInterfaceKind Classify(string directory, string name, List<string> problems)
    {
        long? type = SysfsAttribute.ReadInteger(Path.Combine(directory, "type"), problems, 0, ushort.MaxValue);
        string devType = ReadUeventValue(Path.Combine(directory, "uevent"), "DEVTYPE", problems);

        if (Directory.Exists(Path.Combine(directory, "wireless")) || Path.Exists(Path.Combine(directory, "phy80211")) || devType == "wlan")
            return NetworkInterfaceKind.WiFi;
        if (name.StartsWith("wwan", StringComparison.Ordinal) || name.StartsWith("ppp", StringComparison.Ordinal)
            || type is ArphrdRawIp or ArphrdPpp || devType == "wwan")
            return NetworkInterfaceKind.Cellular;
        if (type == ArphrdLoopback || name == "lo")
            return NetworkInterfaceKind.Loopback;
        string devicePath = Path.Combine(directory, "device");
        if (!Path.Exists(devicePath))
            return NetworkInterfaceKind.Virtual;
        string driver = ReadUeventValue(Path.Combine(devicePath, "uevent"), "DRIVER", problems);
        foreach (string cellularDriver in _options.CellularDrivers)
        {
            if (driver == cellularDriver)
                return NetworkInterfaceKind.Cellular;
        }
        return NetworkInterfaceKind.Ethernet;
    }

    private static bool ReadIsUp(string directory, List<string> problems)
    {
        string operstatePath = Path.Combine(directory, "operstate");
        bool hasOperstate = SysfsAttribute.TryRead(operstatePath, problems, out string operstate);
        switch (hasOperstate ? operstate : "unknown")
        {
            case "up":
                return true;
            case "unknown":
                // ppp, tun and some drivers never report an operstate; the carrier then decides.
                return SysfsAttribute.ReadInteger(Path.Combine(directory, "carrier"), problems, 0, 1) == 1;
            case "down" or "dormant" or "lowerlayerdown" or "notpresent" or "testing":
                return false;
            default:
                problems.Add($"{operstatePath}: '{SysfsAttribute.Shorten(operstate)}' is not a known operstate; taken as down");
                return false;
        }
    }

    private static string ReadUeventValue(string path, string key, List<string> problems)
    {
        if (!SysfsAttribute.TryRead(path, problems, out string text))
            return "";
        foreach (ReadOnlySpan<char> line in text.AsSpan().EnumerateLines())
        {
            int equals = line.IndexOf('=');
            if (equals > 0 && line[..equals].SequenceEqual(key))
                return line[(equals + 1)..].Trim().ToString();
        }
        return "";
    }
}
