using System.Globalization;

namespace CortexEdge.Agent.Policy;

/// <summary>
/// Parses the default routes out of <c>/proc/net/route</c> (a header line, then tab-separated
/// <c>Iface Destination Gateway Flags RefCnt Use Metric Mask ...</c>, addresses in hex). A default
/// route has destination and mask 0 and the RTF_UP flag. Malformed lines are skipped with a problem;
/// parsing never throws. Pure and thread safe.
/// </summary>
public static class KernelRouteTable
{
    private const int RouteFlagUp = 0x1;

    /// <summary>Returns each interface with a default route and its lowest metric.</summary>
    public static Dictionary<string, long> ParseDefaultRoutes(string text, List<string> problems, string source = "/proc/net/route")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(problems);
        var routes = new Dictionary<string, long>(StringComparer.Ordinal);
        int lineNumber = 0;
        Span<Range> fields = stackalloc Range[9];
        foreach (ReadOnlySpan<char> line in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            if (lineNumber == 1 || line.IsWhiteSpace())
                continue;
            int count = line.SplitAny(fields, " \t", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (count < 8)
            {
                problems.Add($"{source} line {lineNumber}: expected at least 8 fields, found {count}");
                continue;
            }
            if (!uint.TryParse(line[fields[1]], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint destination)
                || !uint.TryParse(line[fields[3]], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint flags)
                || !long.TryParse(line[fields[6]], NumberStyles.None, CultureInfo.InvariantCulture, out long metric)
                || !uint.TryParse(line[fields[7]], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint mask))
            {
                problems.Add($"{source} line {lineNumber}: destination, flags, metric or mask is malformed");
                continue;
            }
            if (destination != 0 || mask != 0 || (flags & RouteFlagUp) == 0)
                continue;
            string name = line[fields[0]].ToString();
            routes[name] = routes.TryGetValue(name, out long existing) ? Math.Min(existing, metric) : metric;
        }
        return routes;
    }
}
