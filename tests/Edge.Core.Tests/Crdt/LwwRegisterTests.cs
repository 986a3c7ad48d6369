using CortexEdge.Core.Clocks;
using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

public sealed class LwwRegisterTests
{
    private const ulong ReplicaA = 0xA1;
    private const ulong ReplicaB = 0xB2;

    private static LwwRegister<string> NewRegister() => new(CrdtValueCodecs.String);

    [Fact]
    public void Merge_ConcurrentWrites_LaterTimestampWinsOnBothReplicasAndEachCountsOneDiscard()
    {
        var a = NewRegister();
        var b = NewRegister();
        LwwRegister<string> fromA = a.Set("red", new HlcTimestamp(100, ReplicaA));
        LwwRegister<string> fromB = b.Set("blue", new HlcTimestamp(101, ReplicaB));

        CrdtMergeOutcome atA = a.Merge(fromB);
        CrdtMergeOutcome atB = b.Merge(fromA);

        Assert.Equal("blue", a.Value);
        Assert.Equal("blue", b.Value);
        Assert.True(atA.Changed);
        Assert.Equal(1, atA.DiscardedWrites);
        Assert.False(atB.Changed);
        Assert.Equal(1, atB.DiscardedWrites);
    }

    [Fact]
    public void Merge_EqualTime_ReplicaIdBreaksTheTie()
    {
        var a = NewRegister();
        var b = NewRegister();
        LwwRegister<string> fromA = a.Set("from-a", new HlcTimestamp(100, ReplicaA));
        LwwRegister<string> fromB = b.Set("from-b", new HlcTimestamp(100, ReplicaB));
        a.Merge(fromB);
        b.Merge(fromA);
        Assert.Equal("from-b", a.Value);
        Assert.Equal("from-b", b.Value);
    }

    [Fact]
    public void Merge_WriteThatObservedThePreviousValue_IsNotAConflict()
    {
        var a = NewRegister();
        var b = NewRegister();
        b.Merge(a.Set("v1", new HlcTimestamp(100, ReplicaA)));
        LwwRegister<string> overwrite = b.Set("v2", new HlcTimestamp(105, ReplicaB));

        CrdtMergeOutcome outcome = a.Merge(overwrite);

        Assert.Equal("v2", a.Value);
        Assert.Equal(0, outcome.DiscardedWrites);
        Assert.Equal(new HlcTimestamp(100, ReplicaA), a.Observed);
    }

    [Fact]
    public void Merge_ConcurrentWritesOfTheSameValue_DiscardNothing()
    {
        var a = NewRegister();
        var b = NewRegister();
        LwwRegister<string> fromA = a.Set("same", new HlcTimestamp(100, ReplicaA));
        b.Set("same", new HlcTimestamp(200, ReplicaB));
        Assert.Equal(0, b.Merge(fromA).DiscardedWrites);
    }

    [Fact]
    public void Clear_LaterThanAConcurrentWrite_LeavesNoValue()
    {
        var a = NewRegister();
        var b = NewRegister();
        LwwRegister<string> write = a.Set("x", new HlcTimestamp(100, ReplicaA));
        LwwRegister<string> clear = b.Clear(new HlcTimestamp(150, ReplicaB));
        a.Merge(clear);
        b.Merge(write);
        Assert.False(a.HasValue);
        Assert.False(b.TryGetValue(out _));
        Assert.Throws<InvalidOperationException>(() => a.Value);
    }

    [Fact]
    public void Set_TimestampNotAfterCurrent_ThrowsTimestampNotAfter()
    {
        var register = NewRegister();
        register.Set("x", new HlcTimestamp(100, ReplicaB));
        var error = Assert.Throws<EdgeException>(() => register.Set("y", new HlcTimestamp(100, ReplicaA)));
        Assert.Equal(EdgeErrorCode.CrdtTimestampNotAfter, error.Code);
        Assert.Equal("x", register.Value);
    }

    [Fact]
    public void Encode_WriteThatObservedAnother_RoundTripsBothTimestamps()
    {
        var register = NewRegister();
        register.Set("first", new HlcTimestamp(1_700_000_000_000UL << 16, ReplicaA));
        register.Set("second", new HlcTimestamp((1_700_000_000_005UL << 16) | 3, ReplicaB));
        var decoded = LwwRegister<string>.Decode(CrdtEncoding.ToArray(register), CrdtValueCodecs.String);
        Assert.True(decoded.StateEquals(register));
        Assert.Equal(register.Observed, decoded.Observed);
        Assert.Equal("second", decoded.Value);
    }
}
