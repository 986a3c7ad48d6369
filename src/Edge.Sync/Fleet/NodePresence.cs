namespace CortexEdge.Sync.Fleet;

/// <summary>The leader's view of one node's presence (a snapshot).</summary>
/// <param name="Node">The node id.</param>
/// <param name="Online">Whether its latest report says online (false once its will arrived).</param>
/// <param name="LastReport">Its latest report.</param>
/// <param name="LastSeen">When the leader received that report (leader clock).</param>
public sealed record NodePresence(string Node, bool Online, PresenceReport LastReport, DateTimeOffset LastSeen);
