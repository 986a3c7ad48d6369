using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

public sealed class GCounterTests
{
    private const ulong ReplicaA = 0xA1A1A1A1_00000001;
    private const ulong ReplicaB = 0xB2B2B2B2_00000002;

    [Fact]
    public void Increment_OnTwoReplicas_MergedValueIsTheSum()
    {
        var a = new GCounter();
        var b = new GCounter();
        GCounter deltaA = a.Increment(ReplicaA, 3);
        GCounter deltaB = b.Increment(ReplicaB, 4);
        a.Merge(deltaB);
        b.Merge(deltaA);
        Assert.Equal(7UL, a.Value);
        Assert.Equal(7UL, b.Value);
    }

    [Fact]
    public void Merge_SameDeltaTwice_CountsOnce()
    {
        var a = new GCounter();
        var b = new GCounter();
        GCounter delta = a.Increment(ReplicaA, 5);
        Assert.True(b.Merge(delta).Changed);
        Assert.False(b.Merge(delta).Changed);
        Assert.Equal(5UL, b.Value);
    }

    [Fact]
    public void Increment_Delta_IsOneEntryOfTwelveBytes()
    {
        var counter = new GCounter();
        counter.Increment(ReplicaB, 1000);
        GCounter delta = counter.Increment(ReplicaA, 7);
        Assert.Equal(1, delta.ReplicaCount);
        Assert.Equal(1007UL, counter.Value);
        Assert.Equal(12, CrdtEncoding.ToArray(delta).Length); // version, kind, count, 8-byte replica, 1-byte total
    }

    [Fact]
    public void Increment_PastUInt64_ThrowsCounterOverflow()
    {
        var counter = new GCounter();
        counter.Increment(ReplicaA, ulong.MaxValue - 1);
        var error = Assert.Throws<EdgeException>(() => counter.Increment(ReplicaA, 2));
        Assert.Equal(EdgeErrorCode.CrdtCounterOverflow, error.Code);
        Assert.Equal(ulong.MaxValue - 1, counter.TotalOf(ReplicaA));
    }
}
