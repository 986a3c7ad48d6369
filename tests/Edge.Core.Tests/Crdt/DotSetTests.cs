using System.Buffers;
using CortexEdge.Core.Crdt;

namespace CortexEdge.Core.Tests.Crdt;

public sealed class DotSetTests
{
    [Fact]
    public void Add_ContiguousDotsInAnyOrder_CoalesceIntoOneInterval()
    {
        var set = new DotSet();
        foreach (ulong counter in new ulong[] { 5, 1, 3, 2, 4 })
        {
            Assert.True(set.Add(new Dot(7, counter)));
        }

        Assert.False(set.Add(new Dot(7, 3)));
        Assert.Equal(1, set.IntervalCount);
        Assert.Equal(5UL, set.DotCount);
        Assert.Equal(5UL, set.Max(7));
        Assert.Equal(0UL, set.Max(8));
    }

    [Fact]
    public void RandomAddsAndUnions_MatchAHashSetModel()
    {
        int seed = CrdtTestEnvironment.Seed();
        var random = new Random(seed);
        for (int round = 0; round < 300; round++)
        {
            var left = new DotSet();
            var right = new DotSet();
            var model = new HashSet<Dot>();
            for (int i = 0; i < 60; i++)
            {
                ulong start = (ulong)random.Next(1, 60);
                ulong end = start + (ulong)random.Next(0, 4);
                ulong replica = (ulong)random.Next(3);
                DotSet target = random.Next(2) == 0 ? left : right;
                bool anyNew = Enumerable.Range(0, (int)(end - start + 1)).Select(k => new Dot(replica, start + (ulong)k)).Aggregate(false, (acc, d) => model.Add(d) | acc);
                bool reportedNew = target.AddInterval(replica, start, end);
                if (target == left)
                {
                    Assert.True(reportedNew || !anyNew, $"seed {seed}: AddInterval reported no change for new dots");
                }
            }

            left.UnionWith(right);
            Assert.Equal((ulong)model.Count, left.DotCount);
            for (ulong replica = 0; replica < 3; replica++)
            {
                for (ulong counter = 1; counter < 70; counter++)
                {
                    var dot = new Dot(replica, counter);
                    Assert.True(model.Contains(dot) == left.Contains(dot), $"seed {seed} round {round}: {dot} membership differs");
                }
            }

            var buffer = new ArrayBufferWriter<byte>();
            var writer = new CrdtWriter(buffer);
            left.Write(ref writer);
            var reader = new CrdtReader(buffer.WrittenSpan);
            Assert.True(DotSet.Read(ref reader).SetEquals(left), $"seed {seed} round {round}: encoding did not round trip");
        }
    }

    [Fact]
    public void AddInterval_OutOfRange_Throws()
    {
        var set = new DotSet();
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Add(new Dot(1, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.AddInterval(1, 5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Add(new Dot(1, DotSet.CounterMax + 1)));
    }
}
