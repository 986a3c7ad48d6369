using System.Buffers;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// A delta-state CRDT: every mutator changes the local state and returns a small delta of the same
/// type; <see cref="Merge"/> is a join (commutative, associative, idempotent), so deltas and full
/// states can be delivered in any order, any number of times, and replicas that have merged the
/// same deltas hold equal states. Instances are not thread-safe: the owner serializes access.
/// </summary>
/// <typeparam name="TSelf">The implementing type.</typeparam>
public interface IDeltaCrdt<TSelf>
    where TSelf : IDeltaCrdt<TSelf>
{
    /// <summary>Joins <paramref name="other"/> (a delta or a full state) into this state. <paramref name="other"/> is not modified.</summary>
    CrdtMergeOutcome Merge(TSelf other);

    /// <summary>A deep copy that shares no mutable state with this one.</summary>
    TSelf Clone();

    /// <summary>Appends the canonical versioned encoding (<see cref="CrdtEncoding"/>).</summary>
    void Encode(IBufferWriter<byte> output);

    /// <summary>True when both hold the same state (the same encoding).</summary>
    bool StateEquals(TSelf other);
}
