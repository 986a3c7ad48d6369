namespace CortexEdge.Agent.Policy;

/// <summary>
/// One reading of the device's network: every interface, the link sync traffic will use, and the
/// broker round trip the sync layer last measured. Values that could not be read are absent and
/// <see cref="Problems"/> says why; a reading never fails.
/// </summary>
/// <param name="Interfaces">Every interface found, sorted by name.</param>
/// <param name="ActiveLink">The up link sync traffic will use, or <c>null</c> when no link is up.</param>
/// <param name="BrokerRoundTrip">The smoothed broker round trip, or <c>null</c> when not measured recently.</param>
/// <param name="Problems">Values that were missing or malformed, each naming its file.</param>
public sealed record NetworkReading(
    IReadOnlyList<NetworkInterfaceReading> Interfaces,
    NetworkInterfaceReading? ActiveLink,
    TimeSpan? BrokerRoundTrip,
    IReadOnlyList<string> Problems)
{
    /// <summary>No interface at all.</summary>
    public static NetworkReading Offline { get; } = new([], null, null, []);

    /// <summary>
    /// Picks the link sync traffic will use among <paramref name="interfaces"/>: the usable link
    /// with the default route of lowest metric when any has one (that is where the kernel sends
    /// traffic to the broker); otherwise (broker on the local segment, or no route table) the
    /// usable link preferring unmetered, then Ethernet over Wi-Fi over cellular, then name.
    /// </summary>
    public static NetworkInterfaceReading? SelectActiveLink(IReadOnlyList<NetworkInterfaceReading> interfaces, IReadOnlyDictionary<string, long>? defaultRouteMetrics = null)
    {
        NetworkInterfaceReading? best = null;
        long bestMetric = long.MaxValue;
        foreach (NetworkInterfaceReading candidate in interfaces)
        {
            if (!candidate.IsUsableLink || !candidate.HasDefaultRoute)
                continue;
            long metric = defaultRouteMetrics is not null && defaultRouteMetrics.TryGetValue(candidate.Name, out long m) ? m : long.MaxValue - 1;
            if (best is null || metric < bestMetric || (metric == bestMetric && Prefer(candidate, best)))
            {
                best = candidate;
                bestMetric = metric;
            }
        }
        if (best is not null)
            return best;
        foreach (NetworkInterfaceReading candidate in interfaces)
        {
            if (candidate.IsUsableLink && (best is null || Prefer(candidate, best)))
                best = candidate;
        }
        return best;
    }

    private static bool Prefer(NetworkInterfaceReading candidate, NetworkInterfaceReading current)
    {
        if (candidate.IsMetered != current.IsMetered)
            return !candidate.IsMetered;
        if (candidate.Kind != current.Kind)
            return candidate.Kind < current.Kind;
        return string.CompareOrdinal(candidate.Name, current.Name) < 0;
    }

    /// <summary>A one-line description for decision reasons.</summary>
    public override string ToString()
    {
        string link = ActiveLink is null ? "no link up" : $"link {ActiveLink}";
        return BrokerRoundTrip is TimeSpan rtt ? $"{link}, broker round trip {rtt.TotalMilliseconds:0} ms" : link;
    }
}
