using System.Text.Json.Serialization;

namespace CortexEdge.Sync.Fleet;

/// <summary>Frames refused from one node, by reason (a snapshot).</summary>
public sealed record NodeRefusalCounts
{
    /// <summary>Frames whose inner node id named another node (or that carried another origin's ops).</summary>
    [JsonPropertyName("spoofed")]
    public long Spoofed { get; init; }

    /// <summary>Frames whose identity did not match the node (broker identity, or the replica the node name is bound to).</summary>
    [JsonPropertyName("identityMismatch")]
    public long IdentityMismatch { get; init; }

    /// <summary>Ops writing a collection nodes may not write.</summary>
    [JsonPropertyName("collectionNotWritable")]
    public long CollectionNotWritable { get; init; }

    /// <summary>Every refusal.</summary>
    [JsonIgnore]
    public long Total => Spoofed + IdentityMismatch + CollectionNotWritable;
}
