namespace CortexEdge.Sync.Fleet;

/// <summary>One node's refusal counters, updated with <see cref="Interlocked"/> (the authorizer's and the sync leader's).</summary>
internal sealed class NodeRefusalCounters
{
    public long Spoofed;
    public long IdentityMismatch;
    public long CollectionNotWritable;

    public NodeRefusalCounts Snapshot() => new()
    {
        Spoofed = Interlocked.Read(ref Spoofed),
        IdentityMismatch = Interlocked.Read(ref IdentityMismatch),
        CollectionNotWritable = Interlocked.Read(ref CollectionNotWritable),
    };
}
