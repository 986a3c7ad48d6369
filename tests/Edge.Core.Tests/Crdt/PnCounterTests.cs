using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

public sealed class PnCounterTests
{
    private const ulong ReplicaA = 0xA1;
    private const ulong ReplicaB = 0xB2;

    [Fact]
    public void Increment_PositiveAndNegativeOnTwoReplicas_ConvergeToTheSum()
    {
        var a = new PnCounter();
        var b = new PnCounter();
        var deltas = new List<(PnCounter Delta, bool FromA)>
        {
            (a.Increment(ReplicaA, 10), true),
            (b.Increment(ReplicaB, -4), false),
            (a.Increment(ReplicaA, -3), true),
            (b.Increment(ReplicaB, 2), false),
        };

        // Deliver in reverse order: only the latest entry per replica matters.
        foreach ((PnCounter delta, bool fromA) in Enumerable.Reverse(deltas))
        {
            (fromA ? b : a).Merge(delta);
        }

        Assert.Equal(5, a.Value);
        Assert.Equal(5, b.Value);
        Assert.True(a.StateEquals(b));
    }

    [Fact]
    public void Increment_Int64MinValue_DecrementsByItsMagnitude()
    {
        var counter = new PnCounter();
        counter.Increment(ReplicaA, long.MinValue);
        Assert.Equal(long.MinValue, counter.Value);
        counter.Increment(ReplicaA, long.MaxValue);
        Assert.Equal(-1, counter.Value);
    }

    [Fact]
    public void Decode_EntryWithZeroTotals_IsRejected()
    {
        byte[] encoded = [CrdtEncoding.FormatVersion, (byte)CrdtKind.PnCounter, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        var error = Assert.Throws<EdgeException>(() => PnCounter.Decode(encoded));
        Assert.Equal(EdgeErrorCode.CrdtMalformed, error.Code);
        Assert.Contains("zero totals", error.Message, StringComparison.Ordinal);
    }
}
