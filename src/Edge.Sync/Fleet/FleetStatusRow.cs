using System.Text.Json.Serialization;

namespace CortexEdge.Sync.Fleet;

/// <summary>One node in <c>cortex-edge fleet status</c>.</summary>
public sealed record FleetStatusRow
{
    /// <summary>The node id.</summary>
    [JsonPropertyName("node")]
    public required string Node { get; init; }

    /// <summary>Whether its presence says online.</summary>
    [JsonPropertyName("online")]
    public bool Online { get; init; }

    /// <summary>When the leader last heard its presence.</summary>
    [JsonPropertyName("lastSeen")]
    public DateTimeOffset? LastSeen { get; init; }

    /// <summary>Ops the node has not had acknowledged.</summary>
    [JsonPropertyName("backlog")]
    public long Backlog { get; init; }

    /// <summary>When the node last completed a sync.</summary>
    [JsonPropertyName("lastSync")]
    public DateTimeOffset? LastSync { get; init; }

    /// <summary>Seconds since its last sync (at the time the status was made), null if never synced.</summary>
    [JsonPropertyName("lagSeconds")]
    public double? LagSeconds { get; init; }

    /// <summary>Schema version the node understands.</summary>
    [JsonPropertyName("schema")]
    public int SchemaVersion { get; init; }

    /// <summary>Collections it holds back for a newer schema.</summary>
    [JsonPropertyName("heldBack")]
    public IReadOnlyList<string>? HeldBack { get; init; }

    /// <summary>Battery percent where known.</summary>
    [JsonPropertyName("battery")]
    public int? BatteryPercent { get; init; }

    /// <summary>Frames the leader refused from it.</summary>
    [JsonPropertyName("refused")]
    public long Refused { get; init; }

    /// <summary>The refusals by reason (null when none were counted).</summary>
    [JsonPropertyName("refusals")]
    public NodeRefusalCounts? Refusals { get; init; }
}
