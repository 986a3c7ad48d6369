using System.Diagnostics;

namespace CortexEdge.Benchmarks.Harness;

/// <summary>Collects per-operation latencies (Stopwatch ticks) and reports percentiles.</summary>
public sealed class LatencyRecorder
{
    private readonly List<long> _ticks;

    public LatencyRecorder(int capacity = 1024) => _ticks = new List<long>(capacity);

    public int Count => _ticks.Count;

    /// <summary>Starts a timestamp; pass it to <see cref="Stop"/>.</summary>
    public static long Start() => Stopwatch.GetTimestamp();

    public void Stop(long startTimestamp) => _ticks.Add(Stopwatch.GetTimestamp() - startTimestamp);

    public void Add(TimeSpan elapsed) => _ticks.Add((long)(elapsed.TotalSeconds * Stopwatch.Frequency));

    /// <summary>The latency at percentile <paramref name="p"/> (0..100), nearest-rank.</summary>
    public TimeSpan Percentile(double p)
    {
        if (_ticks.Count == 0)
        {
            return TimeSpan.Zero;
        }

        long[] sorted = [.. _ticks];
        Array.Sort(sorted);
        int rank = (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1;
        rank = Math.Clamp(rank, 0, sorted.Length - 1);
        return TimeSpan.FromSeconds(sorted[rank] / (double)Stopwatch.Frequency);
    }

    public TimeSpan P50 => Percentile(50);

    public TimeSpan P99 => Percentile(99);

    public static LatencyRecorder Measure(int iterations, Action action, int warmup = 0)
    {
        for (int i = 0; i < warmup; i++)
        {
            action();
        }

        var recorder = new LatencyRecorder(iterations);
        for (int i = 0; i < iterations; i++)
        {
            long start = Start();
            action();
            recorder.Stop(start);
        }

        return recorder;
    }
}
