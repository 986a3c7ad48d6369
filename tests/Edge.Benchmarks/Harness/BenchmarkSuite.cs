namespace CortexEdge.Benchmarks.Harness;

/// <summary>
/// One area's benchmarks (WAL, time series, MQTT, ...). A suite measures our figure and its peer's
/// in the same run and reports both as rows of <see cref="BenchmarkReport"/>.
/// </summary>
public abstract class BenchmarkSuite
{
    /// <summary>Short name used on the command line (`Edge.Benchmarks wal`).</summary>
    public abstract string Name { get; }

    /// <summary>Heading of the suite's section in docs/BENCHMARKS.md.</summary>
    public abstract string Title { get; }

    /// <summary>Runs the suite. <paramref name="scale"/> is 1.0 by default; CE_BENCH_SCALE shrinks or grows the work.</summary>
    public abstract Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken);
}
