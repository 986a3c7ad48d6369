namespace CortexEdge.Sync.Fleet;

/// <summary>How one collection replicates: its direction, priority, the fields that never leave a device, and its schema version.</summary>
public sealed record CollectionRule
{
    /// <summary>Most local-only fields per collection.</summary>
    public const int LocalOnlyFieldCountMax = 256;

    /// <summary>The collection's name.</summary>
    public required string Name { get; init; }

    /// <summary>Which way its changes travel.</summary>
    public ReplicationDirection Direction { get; init; } = ReplicationDirection.Both;

    /// <summary>Sync priority, 0 (lowest) to 255; priority-only syncs send collections at or above the policy's threshold.</summary>
    public byte Priority { get; init; }

    /// <summary>Top-level fields stripped from every outgoing op (both directions); they stay on the device that wrote them.</summary>
    public IReadOnlyList<string> LocalOnlyFields { get; init; } = [];

    /// <summary>The schema version of the collection's documents; a node that understands an older one holds its data back.</summary>
    public int SchemaVersion { get; init; }
}
