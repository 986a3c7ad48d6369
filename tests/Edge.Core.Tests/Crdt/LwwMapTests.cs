using CortexEdge.Core.Clocks;
using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

public sealed class LwwMapTests
{
    private const ulong ReplicaA = 0xA1;
    private const ulong ReplicaB = 0xB2;

    private static LwwMap<string, string> NewMap() => new(CrdtValueCodecs.String, CrdtValueCodecs.String);

    [Fact]
    public void Merge_ConcurrentEditsToDifferentKeys_BothSurviveWithoutConflict()
    {
        var a = NewMap();
        var b = NewMap();
        LwwMap<string, string> fromA = a.Set("interval", "30s", new HlcTimestamp(100, ReplicaA));
        LwwMap<string, string> fromB = b.Set("threshold", "42", new HlcTimestamp(100, ReplicaB));
        CrdtMergeOutcome atA = a.Merge(fromB);
        b.Merge(fromA);

        Assert.True(a.StateEquals(b));
        Assert.Equal(2, a.Count);
        Assert.True(a.TryGetValue("interval", out string? interval) && interval == "30s");
        Assert.True(a.TryGetValue("threshold", out string? threshold) && threshold == "42");
        Assert.Equal(0, atA.DiscardedWrites);
    }

    [Fact]
    public void Merge_ConcurrentEditsToOneKey_SameWinnerEverywhereAndConflictCounted()
    {
        var a = NewMap();
        var b = NewMap();
        LwwMap<string, string> fromA = a.Set("mode", "eco", new HlcTimestamp(200, ReplicaA));
        LwwMap<string, string> fromB = b.Set("mode", "turbo", new HlcTimestamp(199, ReplicaB));
        Assert.Equal(1, a.Merge(fromB).DiscardedWrites);
        Assert.Equal(1, b.Merge(fromA).DiscardedWrites);
        Assert.True(a.TryGetValue("mode", out string? mode) && mode == "eco");
        Assert.True(a.StateEquals(b));
    }

    [Fact]
    public void Merge_RemoveNewerThanConcurrentSet_KeyStaysRemoved()
    {
        var a = NewMap();
        var b = NewMap();
        b.Merge(a.Set("k", "v1", new HlcTimestamp(10, ReplicaA)));
        LwwMap<string, string> set = a.Set("k", "v2", new HlcTimestamp(20, ReplicaA));
        LwwMap<string, string> remove = b.Remove("k", new HlcTimestamp(30, ReplicaB));
        a.Merge(remove);
        b.Merge(set);
        Assert.False(a.TryGetValue("k", out _));
        Assert.Equal(0, b.Count);
        Assert.Equal(1, b.TombstoneCount);
    }

    [Fact]
    public void PruneTombstones_OlderThanStablePoint_DropsOnlyThose()
    {
        var map = NewMap();
        map.Set("a", "1", new HlcTimestamp(1, ReplicaA));
        map.Remove("a", new HlcTimestamp(2, ReplicaA));
        map.Set("b", "1", new HlcTimestamp(3, ReplicaA));
        map.Remove("b", new HlcTimestamp(9, ReplicaA));
        map.Set("c", "1", new HlcTimestamp(4, ReplicaA));

        Assert.Equal(1, map.PruneTombstones(new HlcTimestamp(5, 0)));
        Assert.Null(map.GetRegister("a"));
        Assert.NotNull(map.GetRegister("b"));
        Assert.Equal(1, map.Count);
    }

    [Fact]
    public void Set_WithStaleTimestampOnNewKey_LeavesNoEntry()
    {
        var map = NewMap();
        Assert.Throws<EdgeException>(() => map.Set("k", "v", HlcTimestamp.Zero));
        Assert.Null(map.GetRegister("k"));
        Assert.Equal(0, map.TombstoneCount);
    }
}
