using CortexEdge.Core.Vectors;

namespace CortexEdge.Core.Tests.Vectors;

public sealed class VectorIdMapTests
{
    [Fact]
    public void RandomAddsAndRemoves_MatchADictionary_AcrossGrowth()
    {
        // Few distinct ids and many removals keep probe runs long, so backward-shift deletion is exercised.
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        var map = new VectorIdMap();
        var model = new Dictionary<string, int>(StringComparer.Ordinal);
        string?[] ids = new string?[20_000];
        var free = new Stack<int>();
        int high = 0;
        for (int op = 0; op < 60_000; op++)
        {
            string id = "v" + random.Next(op < 30_000 ? 15_000 : 600);
            if (random.Next(3) == 0)
            {
                bool removed = map.Remove(id, ids);
                Assert.True(removed == model.Remove(id, out int slot), $"seed {seed}, op {op}: remove {id}");
                if (removed)
                {
                    ids[slot] = null;
                    free.Push(slot);
                }
            }
            else if (!model.ContainsKey(id))
            {
                int slot = free.Count > 0 ? free.Pop() : high++;
                map.Add(id, slot, ids);
                ids[slot] = id;
                model[id] = slot;
            }

            if (op % 5000 == 0 || op == 59_999)
            {
                Assert.Equal(model.Count, map.Count);
                for (int i = 0; i < 15_000; i++)
                {
                    string probe = "v" + i;
                    bool found = map.TryGet(probe, ids, out int slot);
                    Assert.True(found == model.TryGetValue(probe, out int expected) && (!found || slot == expected), $"seed {seed}, op {op}: lookup {probe}");
                }
            }
        }
    }
}
