using System.Globalization;

namespace CortexEdge.Core.Tests.Crdt;

/// <summary>Seeds and iteration counts of the randomized CRDT tests, from the environment with CI defaults.</summary>
internal static class CrdtTestEnvironment
{
    /// <summary>CE_TEST_SEED replays a failing run; otherwise a fresh seed (printed in every assertion message).</summary>
    public static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)
            ? seed
            : Random.Shared.Next();

    /// <summary>Random schedules per CRDT type in the convergence tests (CE_CRDT_SCHEDULES, default 10000).</summary>
    public static int Schedules => Read("CE_CRDT_SCHEDULES", 10_000);

    /// <summary>Mutated inputs per decoder in the fuzz tests (CE_FUZZ_ITERATIONS, default 20000).</summary>
    public static int FuzzIterations => Read("CE_FUZZ_ITERATIONS", 20_000);

    private static int Read(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : fallback;
}
