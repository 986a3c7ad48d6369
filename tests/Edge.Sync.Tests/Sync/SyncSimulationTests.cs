using Xunit.Abstractions;
using System.Collections.Concurrent;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>
/// Many seeded runs of <see cref="SyncSimulation"/>: a leader and 3-5 nodes over a lossy,
/// duplicating, reordering network with partitions and crashes. Every run must converge with
/// exact counter totals (no acknowledged op lost, none applied twice). Seeds: CE_SIM_SEEDS
/// (default 1000) consecutive seeds from CE_TEST_SEED (random when unset); SIM_SEED=n replays one.
/// </summary>
public sealed class SyncSimulationTests(ITestOutputHelper output)
{
    private readonly ITestOutputHelper _output = output;

    [Fact]
    public void Simulation_ManySeeds_EveryRunConvergesWithExactCounters()
    {
        int? replay = TestEnvironment.OptionalInt("SIM_SEED");
        int count = replay is null ? TestEnvironment.Int("CE_SIM_SEEDS", 1000) : 1;
        int baseSeed = replay ?? TestEnvironment.Seed();
        var failures = new ConcurrentBag<string>();
        long snapshots = 0, skewRefusals = 0, crashes = 0, duplicates = 0, gaps = 0;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            int seed = unchecked(baseSeed + i);
            var simulation = new SyncSimulation(seed);
            string? failure;
            try
            {
                failure = simulation.Run();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failure = "threw " + ex;
            }

            if (failure is not null)
            {
                failures.Add($"seed {seed} failed (replay with SIM_SEED={seed}): {failure}\ntrace:\n{simulation.Trace}");
            }

            Interlocked.Add(ref snapshots, simulation.SnapshotsImported);
            Interlocked.Add(ref skewRefusals, simulation.ClockSkewRefusals);
            Interlocked.Add(ref crashes, simulation.Crashes);
            Interlocked.Add(ref duplicates, simulation.DuplicateOps);
            Interlocked.Add(ref gaps, simulation.Gaps);
        });

        _output.WriteLine($"{count} seeds from {baseSeed}: {crashes} crashes, {snapshots} snapshots imported, {skewRefusals} clock-skew refusals, {duplicates} duplicate ops, {gaps} gaps");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {count} seeds failed (base seed {baseSeed}):\n" + string.Join("\n\n", failures.Take(3)));
        if (replay is null && count >= 200)
        {
            // The fault mix must actually exercise the recovery paths, or the test proves little.
            Assert.True(crashes > 0, $"no crash happened in {count} seeds (base seed {baseSeed})");
            Assert.True(skewRefusals > 0, $"no clock-skew refusal happened in {count} seeds (base seed {baseSeed})");
            Assert.True(snapshots > 0, $"no snapshot was imported in {count} seeds (base seed {baseSeed})");
            Assert.True(duplicates > 0, $"no duplicate op reached the leader in {count} seeds (base seed {baseSeed})");
            Assert.True(gaps > 0, $"no gap was seen by the leader in {count} seeds (base seed {baseSeed})");
        }
    }

    [Fact]
    public void Simulation_SameSeed_ReplaysIdentically()
    {
        int seed = TestEnvironment.Seed();
        var first = new SyncSimulation(seed);
        var second = new SyncSimulation(seed);
        Assert.Equal(first.Run(), second.Run());
        Assert.Equal(first.Trace, second.Trace);
        Assert.Equal(first.Crashes, second.Crashes);
    }
}
