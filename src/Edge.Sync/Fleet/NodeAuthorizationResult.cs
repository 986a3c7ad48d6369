namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The leader's verdict on one incoming frame. When refused, <see cref="Code"/> and
/// <see cref="Detail"/> go into the error reply sent to <see cref="Node"/> (the node the topic
/// names, which the broker's ACL binds to the sender's credentials).
/// </summary>
public readonly record struct NodeAuthorizationResult(bool Allowed, string Node, FleetErrorCode Code, string Detail)
{
    /// <summary>An allowed frame from <paramref name="node"/>.</summary>
    public static NodeAuthorizationResult Allow(string node) => new(true, node, FleetErrorCode.Unknown, string.Empty);
}
