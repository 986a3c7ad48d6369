namespace CortexEdge.Agent.Policy;

/// <summary>
/// The broker round trip as the sync layer measures it (e.g. MQTT PINGREQ to PINGRESP, or publish
/// to PUBACK). The sync layer feeds <see cref="BrokerRoundTripTracker"/>; the policy only reads.
/// </summary>
public interface IBrokerRoundTripSource
{
    /// <summary>The smoothed round trip, or <c>null</c> when nothing was measured recently. Safe from any thread.</summary>
    TimeSpan? RoundTrip { get; }
}
