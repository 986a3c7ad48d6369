using System.Globalization;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>Seeds and sizes of randomized tests, from environment variables with CI defaults.</summary>
internal static class TestEnvironment
{
    public static int Int(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : fallback;

    /// <summary>CE_TEST_SEED when set, otherwise a fresh random seed (printed by the test on failure).</summary>
    public static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed) ? seed : Random.Shared.Next();

    public static int? OptionalInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;
}
