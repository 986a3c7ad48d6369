namespace CortexEdge.Sync.Fleet;

/// <summary>Which side of the fleet a component runs on; decides which direction is "outgoing".</summary>
public enum FleetRole
{
    /// <summary>An edge node: outgoing means up to the leader.</summary>
    Node = 0,

    /// <summary>The leader: outgoing means down to nodes.</summary>
    Leader = 1,
}
