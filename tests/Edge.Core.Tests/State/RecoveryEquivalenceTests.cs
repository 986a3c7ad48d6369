using System.Globalization;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests.State;

/// <summary>
/// Random op sequences (seeded, printed) with checkpoints and simulated crashes at random points:
/// the state after replay equals the state before the crash and a plain model of the ops.
/// </summary>
public sealed class RecoveryEquivalenceTests : IDisposable
{
    private readonly WalTestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private EdgeDatabase Open() => EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
    {
        Durability = WalDurability.None,
        WalSegmentBytes = 64 * 1024,
        CheckpointInterval = TimeSpan.FromHours(1),
        CheckpointRecordCount = int.MaxValue,
        CheckpointBatchRecordCountMax = 37, // many small batches: crashes land between them too
    });

    [Fact]
    public async Task RandomOps_CheckpointsAndCrashes_ReplayEqualsStateBeforeCrash()
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        int rounds = TestRandom.Iterations("CE_RECOVERY_ROUNDS", 25);
        // A document exists once put (until deleted) or while a patch-created document has fields.
        var model = new Dictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        var wasPut = new HashSet<string>(StringComparer.Ordinal);
        string[] collections = ["a", "b"];
        string[] fields = ["f", "g", "h", "i"];
        EdgeDatabase database = Open();
        try
        {
            for (int round = 0; round < rounds; round++)
            {
                int ops = random.Next(1, 200);
                for (int op = 0; op < ops; op++)
                {
                    string collection = collections[random.Next(collections.Length)];
                    string key = "k" + random.Next(30).ToString(CultureInfo.InvariantCulture);
                    string id = collection + "/" + key;
                    int kind = random.Next(10);
                    if (kind < 4)
                    {
                        var document = new SortedDictionary<string, string>(StringComparer.Ordinal);
                        foreach (string field in fields.Where(_ => random.Next(2) == 0))
                        {
                            document[field] = RandomValue(random);
                        }

                        await database.PutAsync(collection, key, ToJson(document));
                        model[id] = document;
                        wasPut.Add(id);
                    }
                    else if (kind < 8)
                    {
                        var patch = new SortedDictionary<string, string>(StringComparer.Ordinal);
                        foreach (string field in fields.Where(_ => random.Next(3) == 0))
                        {
                            patch[field] = random.Next(4) == 0 ? "null" : RandomValue(random);
                        }

                        await database.PatchAsync(collection, key, ToJson(patch));
                        var current = model.TryGetValue(id, out var existing) ? existing : new SortedDictionary<string, string>(StringComparer.Ordinal);
                        foreach ((string field, string value) in patch)
                        {
                            if (value == "null")
                            {
                                current.Remove(field);
                            }
                            else
                            {
                                current[field] = value;
                            }
                        }

                        model[id] = current;
                        if (current.Count == 0 && !wasPut.Contains(id))
                        {
                            model.Remove(id);
                        }
                    }
                    else
                    {
                        await database.DeleteAsync(collection, key);
                        model.Remove(id);
                        wasPut.Remove(id);
                    }

                    if (random.Next(50) == 0)
                    {
                        await database.CheckpointAsync();
                    }
                }

                string before = Dump(database, collections);
                Assert.True(before == DumpModel(model, collections), $"seed {seed}, round {round}: live state differs from the model\n{before}\n{DumpModel(model, collections)}");
                long lastLsn = database.GetStats().LastLsn;
                if (random.Next(3) == 0)
                {
                    database.Dispose(); // clean close: final checkpoint
                }
                else
                {
                    database.CloseWithoutCheckpoint(); // crash: replay from the last checkpoint
                }

                database = Open();
                string after = Dump(database, collections);
                Assert.True(before == after, $"seed {seed}, round {round}: state after reopen differs\nbefore: {before}\nafter:  {after}");
                Assert.Equal(lastLsn, database.GetStats().LastLsn);
            }
        }
        finally
        {
            database.Dispose();
        }
    }

    private static string RandomValue(Random random) => random.Next(4) switch
    {
        0 => random.Next(-1000, 1000).ToString(CultureInfo.InvariantCulture),
        1 => "\"s" + random.Next(100).ToString(CultureInfo.InvariantCulture) + "\"",
        2 => random.Next(2) == 0 ? "true" : "false",
        _ => "[" + random.Next(10).ToString(CultureInfo.InvariantCulture) + ",{\"n\":null}]",
    };

    private static string ToJson(SortedDictionary<string, string> fields) =>
        "{" + string.Join(",", fields.Select(f => $"\"{f.Key}\":{f.Value}")) + "}";

    private static string Dump(EdgeDatabase database, string[] collections) =>
        string.Join("\n", collections.Select(c => c + ": " + string.Join(";", database.Scan(c).Select(d => $"{d.Key}={d.ToJsonString()}"))));

    private static string DumpModel(Dictionary<string, SortedDictionary<string, string>> model, string[] collections) =>
        string.Join("\n", collections.Select(c => c + ": " + string.Join(";", model
            .Where(e => e.Key.StartsWith(c + "/", StringComparison.Ordinal))
            .Select(e => (Key: e.Key[(c.Length + 1)..], e.Value))
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => $"{e.Key}={ToJson(e.Value)}"))));
}
