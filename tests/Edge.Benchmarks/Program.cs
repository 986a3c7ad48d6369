using System.Reflection;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Core.Platform;

// Usage: Edge.Benchmarks [--out docs/BENCHMARKS.md] [suite ...]   (no suite names: all suites)
NativeLibraryResolver.Initialize();
string? outPath = null;
var selected = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--out" && i + 1 < args.Length)
    {
        outPath = args[++i];
    }
    else
    {
        selected.Add(args[i]);
    }
}

double scale = double.TryParse(Environment.GetEnvironmentVariable("CE_BENCH_SCALE"), System.Globalization.CultureInfo.InvariantCulture, out double s) ? s : 1.0;
var suites = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => t.IsSubclassOf(typeof(BenchmarkSuite)) && !t.IsAbstract)
    .Select(t => (BenchmarkSuite)Activator.CreateInstance(t)!)
    .Where(suite => selected.Count == 0 || selected.Contains(suite.Name))
    .OrderBy(suite => suite.Name, StringComparer.Ordinal)
    .ToList();

var report = new BenchmarkReport();
foreach (BenchmarkSuite suite in suites)
{
    Console.WriteLine($"== {suite.Name}: {suite.Title}");
    report.BeginSuite(suite);
    await suite.RunAsync(report, scale, CancellationToken.None);
}

DateTime measuredAt = DateTime.UtcNow;
string machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}";
string header = $"Measured {measuredAt:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, " +
    $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription} " +
    $"({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}), CE_BENCH_SCALE={scale}. " +
    "Produced by `scripts/bench.sh`; latencies are p50/p99 of per-operation samples, never means.";
string markdown = report.ToMarkdown(header);
if (outPath is not null)
{
    File.WriteAllText(outPath, markdown);
    string jsonPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, "benchmarks.json");
    File.WriteAllText(jsonPath, report.ToJson(machine, measuredAt));
    Console.WriteLine($"wrote {outPath} and {jsonPath}");
}
else
{
    Console.WriteLine(markdown);
}

return 0;
