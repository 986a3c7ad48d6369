namespace CortexEdge.Sync.Fleet;

/// <summary>What <see cref="ManifestFilter"/> decided for one outgoing op.</summary>
public enum ManifestDecision
{
    /// <summary>Send as is (the output holds an exact copy).</summary>
    Send = 0,

    /// <summary>Send the output, from which local-only fields were removed.</summary>
    SendStripped = 1,

    /// <summary>Do not send: the collection does not travel this way (local-only, or the other direction).</summary>
    Drop = 2,

    /// <summary>Do not send yet: this node understands an older schema version than the manifest's; it says so in its status.</summary>
    HoldBack = 3,
}
