using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

public sealed class AddWinsSetTests
{
    private const ulong ReplicaA = 0xA1;
    private const ulong ReplicaB = 0xB2;

    private static AddWinsSet<string> NewSet() => new(CrdtValueCodecs.String);

    [Fact]
    public void Merge_AddConcurrentWithRemove_AddWins()
    {
        var a = NewSet();
        var b = NewSet();
        b.Merge(a.Add(ReplicaA, "milk"));

        AddWinsSet<string> remove = a.Remove("milk");
        AddWinsSet<string> reAdd = b.Add(ReplicaB, "milk");
        a.Merge(reAdd);
        b.Merge(remove);

        Assert.True(a.Contains("milk"));
        Assert.True(b.Contains("milk"));
        Assert.True(a.StateEquals(b));
    }

    [Fact]
    public void Merge_RemoveOfObservedAdd_RemovesEverywhereWithoutTombstone()
    {
        var a = NewSet();
        var b = NewSet();
        b.Merge(a.Add(ReplicaA, "eggs"));
        a.Merge(b.Remove("eggs"));

        Assert.False(a.Contains("eggs"));
        Assert.Equal(0, a.DotCount);
        Assert.Equal(1, a.Context.IntervalCount); // the one add, remembered as context only
    }

    [Fact]
    public void Merge_RemoveArrivingBeforeItsAdd_StillRemoves()
    {
        var a = NewSet();
        var b = NewSet();
        var c = NewSet();
        AddWinsSet<string> add = a.Add(ReplicaA, "tea");
        b.Merge(add);
        AddWinsSet<string> remove = b.Remove("tea");
        c.Merge(remove);
        c.Merge(add);
        Assert.False(c.Contains("tea"));
    }

    [Fact]
    public void Remove_AbsentElement_YieldsEmptyDelta()
    {
        var set = NewSet();
        set.Add(ReplicaA, "x");
        AddWinsSet<string> delta = set.Remove("y");
        Assert.Equal(0, delta.Count);
        Assert.True(delta.Context.IsEmpty);
    }

    [Fact]
    public void AddRemoveCycles_HundredThousandOverTenElements_MetadataStaysUnderTheStatedBound()
    {
        // Bound, with R replicas, E elements and at most P deltas in flight: every undelivered
        // delta opens at most one gap per replica in a receiver's context, so the context has at
        // most R(P + 1) intervals; each element keeps at most one dot per replica plus one per
        // delta in flight (E*R + P dots). Encoded: 2 header + 1 + 9R + 6 per interval (two varints
        // of <= 3 bytes while counters stay below 2^21) + 1 + 4 per element ("eN", length, dot
        // count) + 4 per dot (replica index < 128: 1 byte, counter < 2^21: <= 3 bytes).
        const int r = SetMetadataRun<AddWinsSet<string>>.ReplicaCount;
        const int e = SetMetadataRun<AddWinsSet<string>>.ElementCount;
        const int p = SetMetadataRun<AddWinsSet<string>>.InFlightMax;
        const int intervalsMax = r * (p + 1);
        const int dotsMax = (e * r) + p;
        const int encodedBytesMax = 2 + 1 + (9 * r) + (6 * intervalsMax) + 1 + (4 * e) + (4 * dotsMax); // 561 bytes

        int seed = CrdtTestEnvironment.Seed();
        int largest = 0;
        var run = new SetMetadataRun<AddWinsSet<string>>(NewSet, (s, replica, x) => s.Add(replica, x), (s, x) => s.Remove(x));
        AddWinsSet<string>[] states = run.Run(100_000, new Random(seed), (state, cycle) =>
        {
            int encodedBytes = CrdtEncoding.ToArray(state).Length;
            largest = Math.Max(largest, encodedBytes);
            Assert.True(state.Context.IntervalCount <= intervalsMax, $"seed {seed} cycle {cycle}: {state.Context.IntervalCount} context intervals, bound {intervalsMax}");
            Assert.True(state.DotCount <= dotsMax, $"seed {seed} cycle {cycle}: {state.DotCount} dots, bound {dotsMax}");
            Assert.True(encodedBytes <= encodedBytesMax, $"seed {seed} cycle {cycle}: state encodes to {encodedBytes} bytes, bound {encodedBytesMax}");
        });

        // Quiescent: the context compacted to one interval per replica (a version vector) covering
        // all 100,000 adds and removes' dots.
        Assert.All(states, s => Assert.True(s.StateEquals(states[0]), $"seed {seed}: replicas diverged"));
        Assert.Equal(r, states[0].Context.IntervalCount);
        Assert.True(states[0].DotCount <= e * r, $"seed {seed}: {states[0].DotCount} dots at rest");
        Assert.True(largest > 0);
    }
}
