namespace CortexEdge.Sync.Fleet;

/// <summary>Frames refused from one node, by reason (a snapshot).</summary>
public sealed record NodeRefusalCounts
{
    /// <summary>Frames whose inner node id named another node.</summary>
    public long Spoofed { get; init; }

    /// <summary>Frames whose broker identity did not match the topic's node.</summary>
    public long IdentityMismatch { get; init; }

    /// <summary>Frames writing a collection nodes may not write.</summary>
    public long CollectionNotWritable { get; init; }

    /// <summary>Every refused frame.</summary>
    public long Total => Spoofed + IdentityMismatch + CollectionNotWritable;
}
