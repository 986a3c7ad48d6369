namespace CortexEdge.Agent.Tests.Policy.Fakes;

/// <summary>Seeds and iteration counts for randomized tests: CE_TEST_SEED replays a run, CE_FUZZ_ITERATIONS sizes it.</summary>
internal static class TestRandom
{
    public static int Seed()
    {
        string? text = Environment.GetEnvironmentVariable("CE_TEST_SEED");
        return text is not null && int.TryParse(text, out int seed) ? seed : Random.Shared.Next();
    }

    public static int FuzzIterations(int ciDefault = 20000)
    {
        string? text = Environment.GetEnvironmentVariable("CE_FUZZ_ITERATIONS");
        return text is not null && int.TryParse(text, out int count) && count > 0 ? count : ciDefault;
    }
}
