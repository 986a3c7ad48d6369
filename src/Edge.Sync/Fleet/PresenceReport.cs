using System.Text.Json.Serialization;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// What a node says about itself on ce/{fleet}/presence/{node} (JSON, QoS 0, retained). The Last
/// Will carries the same shape with <see cref="Online"/> false. Never persisted to any WAL.
/// </summary>
public sealed record PresenceReport
{
    /// <summary>The node id (equal to the topic's last level and the node's broker username).</summary>
    [JsonPropertyName("node")]
    public required string Node { get; init; }

    /// <summary>false in the Last Will and in a graceful goodbye.</summary>
    [JsonPropertyName("online")]
    public bool Online { get; init; }

    /// <summary>Ops written locally and not yet acknowledged by the leader.</summary>
    [JsonPropertyName("backlog")]
    public long Backlog { get; init; }

    /// <summary>When the node last completed a sync round (UTC), null if never.</summary>
    [JsonPropertyName("lastSync")]
    public DateTimeOffset? LastSync { get; init; }

    /// <summary>The newest manifest revision the node holds.</summary>
    [JsonPropertyName("manifest")]
    public long ManifestRevision { get; init; }

    /// <summary>The schema version the node's build understands (the lowest of its collections).</summary>
    [JsonPropertyName("schema")]
    public int SchemaVersion { get; init; }

    /// <summary>Collections the node holds back because their schema version is newer than it understands.</summary>
    [JsonPropertyName("heldBack")]
    public IReadOnlyList<string>? HeldBack { get; init; }

    /// <summary>Battery charge in percent where the node has a battery it can read; null otherwise.</summary>
    [JsonPropertyName("battery")]
    public int? BatteryPercent { get; init; }

    /// <summary>When the report was made (UTC, the node's clock).</summary>
    [JsonPropertyName("at")]
    public DateTimeOffset? SentAt { get; init; }
}
