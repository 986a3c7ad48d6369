using System.Globalization;
using CortexEdge.Agent.Cli;
using CortexEdge.Agent.Tests.Infrastructure;
using CortexEdge.Core;
using CortexEdge.Core.Platform;
using CortexEdge.Core.TimeSeries;

namespace CortexEdge.Agent.Tests.Cli;

/// <summary>
/// Crash test for time-series ingest: the built cortex-edge (`dotnet cortex-edge.dll append-load`)
/// appends batches of readings to two series, in Always and in Group mode, printing each batch once
/// acknowledged; it is killed with SIGKILL at random moments and restarted on the same database,
/// continuing each series. After every kill each series holds exactly its readings 0..n−1 (each
/// once, in order, bit-exact, whole batches only) with n covering every acknowledged batch.
/// Cycles from CE_TS_CRASH_CYCLES (default 30), seed from CE_TEST_SEED (printed on failure).
/// </summary>
public sealed class AppendLoadCrashTests : IDisposable
{
    private const int BatchReadings = 20;
    private const int Writers = 2;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ce-ts-crash-" + Guid.NewGuid().ToString("N"));

    public AppendLoadCrashTests() => NativeLibraryResolver.Initialize();

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task SigkillWhileAppending_EveryAcknowledgedReadingSurvivesOnceInOrder()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int s) ? s : Random.Shared.Next();
        int cycles = int.TryParse(Environment.GetEnvironmentVariable("CE_TS_CRASH_CYCLES"), out int c) && c > 0 ? c : 30;
        var random = new Random(seed);
        string agent = Path.Combine(AppContext.BaseDirectory, "cortex-edge.dll");
        Assert.True(File.Exists(agent), $"{agent} is missing");
        var acknowledged = new Dictionary<string, long>(StringComparer.Ordinal); // series -> readings acknowledged
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            string durability = cycle % 2 == 0 ? "always" : "group";
            string context = $"seed {seed}, cycle {cycle} ({durability})";
            List<string> acks = await AckingWriter.RunAndKillAsync(
                [agent, "append-load", "--db", _directory, "--durability", durability, "--writers", Writers.ToString(CultureInfo.InvariantCulture),
                    "--batch", BatchReadings.ToString(CultureInfo.InvariantCulture), "--prefix", "crash/"],
                random.Next(0, 200),
                context);
            foreach (string ack in acks)
            {
                string[] parts = ack.Split(' ');
                long end = long.Parse(parts[1], CultureInfo.InvariantCulture) + long.Parse(parts[2], CultureInfo.InvariantCulture);
                acknowledged[parts[0]] = Math.Max(acknowledged.GetValueOrDefault(parts[0]), end);
            }

            await using EdgeDatabase database = EdgeDatabase.Open(_directory);
            foreach ((string series, long count) in acknowledged)
            {
                List<TimeSeriesReading> readings = database.ReadRange(series, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax);
                Assert.True(readings.Count >= count, $"{context}: {series} holds {readings.Count} readings; {count} were acknowledged");
                // One WAL record per batch: a batch is there whole or not at all (an unacknowledged one may be).
                Assert.True(readings.Count % BatchReadings == 0, $"{context}: {series} holds {readings.Count} readings, not whole batches of {BatchReadings}");
                for (int i = 0; i < readings.Count; i++)
                {
                    var expected = new TimeSeriesReading(AppendLoadCommand.Timestamp(i), AppendLoadCommand.Value(i));
                    Assert.True(expected.BitEquals(readings[i]), $"{context}: {series} reading {i} is {readings[i]}, expected {expected} (lost, duplicated or out of order)");
                }
            }
        }

        Assert.True(acknowledged.Values.Sum() >= cycles * BatchReadings, $"seed {seed}: only {acknowledged.Values.Sum()} readings acknowledged in {cycles} cycles");
    }
}
