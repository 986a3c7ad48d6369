namespace CortexEdge.Core.Crdt;

/// <summary>
/// One event of one replica: the <paramref name="Counter"/>-th operation (1-based) that
/// <paramref name="Replica"/> tagged. Dots identify the writes of causal CRDTs
/// (<see cref="MvRegister{T}"/>, <see cref="AddWinsSet{T}"/>, <see cref="OrSet{T}"/>).
/// </summary>
/// <param name="Replica">The 64-bit id of the replica that created the dot.</param>
/// <param name="Counter">The replica's event number, starting at 1.</param>
public readonly record struct Dot(ulong Replica, ulong Counter) : IComparable<Dot>
{
    /// <summary>Orders by replica, then counter (the canonical encoding order).</summary>
    public int CompareTo(Dot other)
    {
        int byReplica = Replica.CompareTo(other.Replica);
        return byReplica != 0 ? byReplica : Counter.CompareTo(other.Counter);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Replica:x16}:{Counter}";
}
