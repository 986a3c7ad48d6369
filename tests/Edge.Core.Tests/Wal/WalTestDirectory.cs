namespace CortexEdge.Core.Tests.Wal;

/// <summary>A fresh temporary directory per test, deleted on dispose.</summary>
public sealed class WalTestDirectory : IDisposable
{
    public WalTestDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ce-wal-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Segment file paths in LSN order.</summary>
    public string[] Segments() => [.. Directory.GetFiles(Path, "*.wal").Order(StringComparer.Ordinal)];

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Seeds and iteration counts for randomized tests (printed in assertion messages, replayed from the environment).</summary>
public static class TestRandom
{
    public static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int seed) ? seed : Random.Shared.Next();

    public static int Iterations(string variable, int defaultCount) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out int count) && count > 0 ? count : defaultCount;

    /// <summary>A deterministic payload for record <paramref name="lsn"/> (length varies with the LSN).</summary>
    public static byte[] Payload(long lsn, int salt = 0)
    {
        var random = new Random((int)(lsn * 7919 + salt));
        byte[] payload = new byte[(int)(lsn * 13 % 97)];
        random.NextBytes(payload);
        return payload;
    }
}
