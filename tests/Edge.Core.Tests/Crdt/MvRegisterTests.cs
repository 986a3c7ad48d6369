using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

public sealed class MvRegisterTests
{
    private const ulong ReplicaA = 0xA1;
    private const ulong ReplicaB = 0xB2;

    private static MvRegister<string> NewRegister() => new(CrdtValueCodecs.String);

    [Fact]
    public void Merge_ConcurrentWrites_KeepsBothAsSiblingsAndCountsOne()
    {
        var a = NewRegister();
        var b = NewRegister();
        MvRegister<string> fromA = a.Write(ReplicaA, "ack by alice");
        MvRegister<string> fromB = b.Write(ReplicaB, "ack by bob");

        CrdtMergeOutcome atA = a.Merge(fromB);
        CrdtMergeOutcome atB = b.Merge(fromA);

        Assert.Equal(["ack by alice", "ack by bob"], a.Values);
        Assert.True(a.StateEquals(b));
        Assert.Equal(1, atA.SiblingsCreated);
        Assert.Equal(1, atB.SiblingsCreated);
    }

    [Fact]
    public void Write_AfterReadingSiblings_ResolvesThemEverywhere()
    {
        var a = NewRegister();
        var b = NewRegister();
        MvRegister<string> fromA = a.Write(ReplicaA, "1");
        MvRegister<string> fromB = b.Write(ReplicaB, "2");
        a.Merge(fromB);
        b.Merge(fromA);

        MvRegister<string> resolution = a.Write(ReplicaA, "1+2");
        CrdtMergeOutcome outcome = b.Merge(resolution);

        Assert.Equal(["1+2"], a.Values);
        Assert.Equal(["1+2"], b.Values);
        Assert.Equal(0, outcome.SiblingsCreated);
    }

    [Fact]
    public void Merge_SequentialWrites_NeverCreateSiblings()
    {
        var a = NewRegister();
        var b = NewRegister();
        Assert.Equal(0, b.Merge(a.Write(ReplicaA, "x")).SiblingsCreated);
        Assert.Equal(0, a.Merge(b.Write(ReplicaB, "y")).SiblingsCreated);
        Assert.Equal(["y"], a.Values);
    }

    [Fact]
    public void Merge_OldWriteArrivingAfterItsOverwrite_IsIgnored()
    {
        var a = NewRegister();
        var c = NewRegister();
        MvRegister<string> first = a.Write(ReplicaA, "old");
        MvRegister<string> second = a.Write(ReplicaA, "new");
        c.Merge(second);
        c.Merge(first);
        Assert.Equal(["new"], c.Values);
    }
}
