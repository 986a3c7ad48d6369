using System.Text;
using CortexEdge.Core.Vectors;

namespace CortexEdge.Core.Tests.Vectors;

public sealed class VectorIdMapTests
{
    [Fact]
    public void RandomAddsAndRemoves_WithIdsInTheFileTrailers_MatchADictionary_AcrossGrowth()
    {
        // Few distinct ids and many removals keep probe runs long, so backward-shift deletion is exercised.
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        var map = new VectorIdMap();
        var model = new Dictionary<string, int>(StringComparer.Ordinal);
        using var directory = new VectorTestData.TempDirectory();
        using VectorFile ids = VectorFile.Open(Path.Combine(directory.Path, "ids.vec"), 1);
        ids.EnsureCapacity(20_000);
        // Every tenth id is longer than the trailer's inline room, so the in-memory long ids are exercised too.
        static string IdOf(int i) => i % 10 == 0 ? "v" + i + new string('x', VectorFile.InlineIdBytes) : "v" + i;
        var free = new Stack<int>();
        int high = 0;
        for (int op = 0; op < 60_000; op++)
        {
            string id = IdOf(random.Next(op < 30_000 ? 15_000 : 600));
            byte[] bytes = Encoding.UTF8.GetBytes(id);
            if (random.Next(3) == 0)
            {
                bool removed = map.Remove(bytes, ids);
                Assert.True(removed == model.Remove(id, out int slot), $"seed {seed}, op {op}: remove {id}");
                if (removed)
                {
                    ids.ClearId(slot);
                    free.Push(slot);
                }
            }
            else if (!model.ContainsKey(id))
            {
                int slot = free.Count > 0 ? free.Pop() : high++;
                ids.SetId(slot, bytes);
                map.Add(bytes, slot, ids);
                model[id] = slot;
            }

            if (op % 5000 == 0 || op == 59_999)
            {
                Assert.Equal(model.Count, map.Count);
                for (int i = 0; i < 15_000; i++)
                {
                    string probe = IdOf(i);
                    bool found = map.TryGet(Encoding.UTF8.GetBytes(probe), ids, out int slot);
                    Assert.True(found == model.TryGetValue(probe, out int expected) && (!found || slot == expected), $"seed {seed}, op {op}: lookup {probe}");
                }
            }
        }
    }
}
