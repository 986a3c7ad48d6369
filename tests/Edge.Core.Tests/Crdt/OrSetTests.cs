using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

public sealed class OrSetTests
{
    private const ulong ReplicaA = 0xA1;
    private const ulong ReplicaB = 0xB2;

    private static OrSet<string> NewSet() => new(CrdtValueCodecs.String);

    [Fact]
    public void Merge_AddConcurrentWithRemove_AddWins()
    {
        var a = NewSet();
        var b = NewSet();
        b.Merge(a.Add(ReplicaA, "bread"));
        OrSet<string> remove = a.Remove("bread");
        OrSet<string> add = b.Add(ReplicaB, "bread");
        a.Merge(add);
        b.Merge(remove);
        Assert.True(a.Contains("bread"));
        Assert.True(a.StateEquals(b));
    }

    [Fact]
    public void Merge_AddArrivingAfterItsRemove_StaysRemoved()
    {
        var a = NewSet();
        var b = NewSet();
        var c = NewSet();
        OrSet<string> add = a.Add(ReplicaA, "jam");
        b.Merge(add);
        c.Merge(b.Remove("jam"));
        c.Merge(add);
        Assert.False(c.Contains("jam"));
        Assert.Equal(1UL, c.Tombstones.DotCount);
    }

    [Fact]
    public void Add_AgainAfterRemoteRemove_UsesAFreshTag()
    {
        var a = NewSet();
        var b = NewSet();
        OrSet<string> add = a.Add(ReplicaA, "x");
        b.Merge(add);
        a.Merge(b.Remove("x"));
        OrSet<string> again = a.Add(ReplicaA, "x");
        b.Merge(again);
        Assert.True(b.Contains("x"));
        Assert.Equal(1, b.TagCount);
    }

    [Fact]
    public void AddRemoveCycles_HundredThousandOverTenElements_TombstonesStayCompacted()
    {
        // Tombstones are removed tags as intervals. Gaps come from tags still live (at most
        // E*R + P) and from deltas in flight (one per replica each): intervals <= R(P + 1) + E*R + P.
        // Encoded: as the add-wins set, plus the live tags' replica table (1 + 8R bytes).
        const int r = SetMetadataRun<OrSet<string>>.ReplicaCount;
        const int e = SetMetadataRun<OrSet<string>>.ElementCount;
        const int p = SetMetadataRun<OrSet<string>>.InFlightMax;
        const int liveTagsMax = (e * r) + p;
        const int intervalsMax = (r * (p + 1)) + liveTagsMax;
        const int encodedBytesMax = 2 + 1 + (9 * r) + (6 * intervalsMax) + 1 + (8 * r) + 1 + (4 * e) + (4 * liveTagsMax); // 862 bytes

        int seed = CrdtTestEnvironment.Seed();
        var run = new SetMetadataRun<OrSet<string>>(NewSet, (s, replica, x) => s.Add(replica, x), (s, x) => s.Remove(x));
        OrSet<string>[] states = run.Run(100_000, new Random(seed), (state, cycle) =>
        {
            Assert.True(state.TagCount <= liveTagsMax, $"seed {seed} cycle {cycle}: {state.TagCount} live tags, bound {liveTagsMax}");
            Assert.True(state.Tombstones.IntervalCount <= intervalsMax, $"seed {seed} cycle {cycle}: {state.Tombstones.IntervalCount} tombstone intervals, bound {intervalsMax}");
            int encodedBytes = CrdtEncoding.ToArray(state).Length;
            Assert.True(encodedBytes <= encodedBytesMax, $"seed {seed} cycle {cycle}: state encodes to {encodedBytes} bytes, bound {encodedBytesMax}");
        });

        Assert.All(states, s => Assert.True(s.StateEquals(states[0]), $"seed {seed}: replicas diverged"));
        // Tens of thousands of removed tags, held in a few intervals.
        Assert.True(states[0].Tombstones.DotCount > 10_000, $"seed {seed}: only {states[0].Tombstones.DotCount} tombstoned tags");
        Assert.True(states[0].Tombstones.IntervalCount <= r + states[0].TagCount, $"seed {seed}: {states[0].Tombstones.IntervalCount} intervals at rest");
    }
}
