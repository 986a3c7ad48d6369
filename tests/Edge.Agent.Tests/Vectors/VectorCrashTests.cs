using System.Diagnostics;
using System.Globalization;
using System.Text;
using CortexEdge.Agent.Vectors;
using CortexEdge.Agent.Tests.Infrastructure;
using CortexEdge.Core;
using CortexEdge.Core.Platform;
using CortexEdge.Core.Vectors;

namespace CortexEdge.Agent.Tests.Vectors;

/// <summary>
/// Crash test: the built cortex-edge upserts vectors (`vec write-load`, Always and Group modes),
/// printing each id once acknowledged, and is killed with SIGKILL at a random moment. After
/// reopening, every acknowledged vector is present with its exact components, searching it finds it
/// first, and a second reopen returns the same search results. Cycles from CE_VECTOR_CRASH_CYCLES
/// (default 6), seed from CE_TEST_SEED (printed on failure).
/// </summary>
public sealed class VectorCrashTests : IDisposable
{
    private const int Dimension = 24;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ce-vec-crash-" + Guid.NewGuid().ToString("N"));

    public VectorCrashTests() => NativeLibraryResolver.Initialize();

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task SigkillDuringUpserts_AcknowledgedVectorsSurvive_AndReopenGivesSameResults()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int s) ? s : Random.Shared.Next();
        int cycles = int.TryParse(Environment.GetEnvironmentVariable("CE_VECTOR_CRASH_CYCLES"), out int c) && c > 0 ? c : 6;
        var random = new Random(seed);
        string agent = Path.Combine(AppContext.BaseDirectory, "cortex-edge.dll");
        Assert.True(File.Exists(agent), $"{agent} is missing");
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            string durability = cycle % 2 == 0 ? "always" : "group";
            string prefix = $"c{cycle}-";
            string context = $"seed {seed}, cycle {cycle} ({durability})";
            List<string> acknowledged = await RunAndKill(agent, durability, prefix, random.Next(0, 300), context);
            string snapshot;
            await using (EdgeDatabase database = EdgeDatabase.Open(_directory))
            {
                foreach (string id in acknowledged)
                {
                    float[] expected = VectorCommands.LoadVector(id, Dimension);
                    VectorRecord? record = database.GetVector(VectorCommands.LoadCollection, id);
                    Assert.True(record is not null && record.Vector.SequenceEqual(expected) && record.DocumentKey == "doc/" + id, $"{context}: acknowledged vector {id} reads back wrong or absent");
                }

                foreach (string id in acknowledged.Take(20))
                {
                    float[] query = VectorCommands.LoadVector(id, Dimension);
                    VectorMatch[] found = database.SearchVectors(VectorCommands.LoadCollection, query, 3);
                    Assert.True(found[0].Distance == 0f, $"{context}: searching {id} does not find an exact match first: {string.Join(", ", found.Select(m => $"{m.Id}={m.Distance}"))}; count {database.GetVectorCollectionStatistics(VectorCommands.LoadCollection)}");
                }

                snapshot = Snapshot(database);
            }

            await using (EdgeDatabase reopened = EdgeDatabase.Open(_directory))
            {
                Assert.True(snapshot == Snapshot(reopened), $"{context}: search results differ between two reopens");
            }
        }
    }

    private static string Snapshot(EdgeDatabase database) =>
        string.Join("\n", Enumerable.Range(0, 10).Select(i => string.Join(",",
            database.SearchVectors(VectorCommands.LoadCollection, VectorCommands.LoadVector("query" + i.ToString(CultureInfo.InvariantCulture), Dimension), 10).Select(m => $"{m.Id}:{m.Distance:R}"))));

    private Task<List<string>> RunAndKill(string agent, string durability, string prefix, int killAfterMilliseconds, string context) =>
        AckingWriter.RunAndKillAsync(
            [
            agent, "vec", "write-load", "--db", _directory, "--durability", durability, "--count", "10000000",
            "--dimension", Dimension.ToString(CultureInfo.InvariantCulture), "--writers", "4", "--prefix", prefix,
        ],
            killAfterMilliseconds,
            context);
}
