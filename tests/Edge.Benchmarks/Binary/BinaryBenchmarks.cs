using System.Diagnostics;
using System.Globalization;
using CortexEdge.Benchmarks.Harness;

namespace CortexEdge.Benchmarks.Binary;

/// <summary>
/// The published binary: file size, start-up time and peak RSS of `cortex-edge --version`, beside
/// the same program under the JIT (what AOT buys) and beside the sqlite3 shell (a native C baseline).
/// </summary>
public sealed class BinaryBenchmarks : BenchmarkSuite
{
    public override string Name => "binary";

    public override string Title => "The cortex-edge binary: size, start-up, memory";

    public override Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        string root = RepositoryRoot();
        string binary = Environment.GetEnvironmentVariable("CE_BENCH_BINARY") ?? Path.Combine(root, "out/publish/linux-x64/cortex-edge");
        string jitDll = Path.Combine(root, "src/Edge.Agent/bin/Release/net9.0/cortex-edge.dll");
        if (!File.Exists(binary))
        {
            report.Note($"Binary not found at {binary}: run build/publish.sh linux-x64 first (scripts/bench.sh does).");
            return Task.CompletedTask;
        }

        int runs = Math.Max(10, (int)(50 * scale));
        string sqlite = File.Exists("/usr/bin/sqlite3") ? "/usr/bin/sqlite3" : "sqlite3";
        long size = new FileInfo(binary).Length;
        report.Compare("binary size", "MB", size / 1e6, "sqlite3 shell + liblz4 + libsqlite3 (.so files)", NativeFootprint(sqlite) / 1e6, lowerIsBetter: true,
            "ours is one static file holding the whole engine");

        var (aotTime, aotRss) = Measure(binary, ["--version"], runs);
        if (File.Exists(jitDll))
        {
            var (jitTime, jitRss) = Measure("dotnet", [jitDll, "--version"], runs);
            report.Compare("start-up `--version` p50", "ms", aotTime.P50.TotalMilliseconds, "same program, JIT", jitTime.P50.TotalMilliseconds, lowerIsBetter: true);
            report.Compare("start-up `--version` p99", "ms", aotTime.P99.TotalMilliseconds, "same program, JIT", jitTime.P99.TotalMilliseconds, lowerIsBetter: true);
            report.Compare("peak RSS `--version`", "MB", aotRss / 1024.0, "same program, JIT", jitRss / 1024.0, lowerIsBetter: true);
        }

        var (sqliteTime, sqliteRss) = Measure(sqlite, ["--version"], runs);
        report.Compare("start-up p50 vs native C", "ms", aotTime.P50.TotalMilliseconds, "sqlite3 --version", sqliteTime.P50.TotalMilliseconds, lowerIsBetter: true);
        report.Compare("peak RSS vs native C", "MB", aotRss / 1024.0, "sqlite3 --version", sqliteRss / 1024.0, lowerIsBetter: true);
        report.Note($"Each start-up figure is the wall time of {runs} runs of the command (p50/p99); peak RSS is /usr/bin/time's maximum resident set size (median of the runs).");
        return Task.CompletedTask;
    }

    private static long NativeFootprint(string sqliteShell)
    {
        long total = new FileInfo(sqliteShell).Length;
        foreach (string lib in new[] { "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0", "/usr/lib/x86_64-linux-gnu/liblz4.so.1", "/usr/lib/aarch64-linux-gnu/libsqlite3.so.0", "/usr/lib/aarch64-linux-gnu/liblz4.so.1" })
        {
            if (File.Exists(lib))
            {
                total += new FileInfo(new FileInfo(lib).ResolveLinkTarget(true)?.FullName ?? lib).Length;
            }
        }

        return total;
    }

    /// <summary>Runs the command under /usr/bin/time, returning wall-time percentiles and the median peak RSS in KiB.</summary>
    private static (LatencyRecorder Time, double RssKiB) Measure(string program, string[] arguments, int runs)
    {
        var time = new LatencyRecorder(runs);
        var rss = new List<double>(runs);
        for (int i = 0; i < runs; i++)
        {
            var info = new ProcessStartInfo("/usr/bin/time") { RedirectStandardError = true, RedirectStandardOutput = true };
            info.ArgumentList.Add("-f");
            info.ArgumentList.Add("CE_RSS=%M");
            info.ArgumentList.Add(program);
            foreach (string argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            long start = LatencyRecorder.Start();
            using Process process = Process.Start(info)!;
            process.StandardOutput.ReadToEnd();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            time.Stop(start);
            string? line = stderr.Split('\n').LastOrDefault(l => l.StartsWith("CE_RSS=", StringComparison.Ordinal));
            if (line is not null)
            {
                rss.Add(double.Parse(line["CE_RSS=".Length..], CultureInfo.InvariantCulture));
            }
        }

        rss.Sort();
        return (time, rss.Count == 0 ? double.NaN : rss[rss.Count / 2]);
    }

    internal static string RepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "CortexEdge.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? Directory.GetCurrentDirectory();
    }
}
