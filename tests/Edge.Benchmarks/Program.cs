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
string header = $"Measured on {Environment.ProcessorCount} cores, " +
    $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription} " +
    $"({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}), CE_BENCH_SCALE={scale}; each suite's date is in its section, and its figures and peers come from that one run. " +
    "Produced by `scripts/bench.sh [suite ...]` (naming suites re-measures those and keeps the other sections); latencies are p50/p99 of per-operation samples, never means.";
if (outPath is not null)
{
    // A run of some suites replaces their sections and keeps the others (each suite is one run: ours and the peer's figures together).
    string jsonPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, "benchmarks.json");
    bool partial = selected.Count > 0;
    string? previousMarkdown = partial && File.Exists(outPath) ? File.ReadAllText(outPath) : null;
    string? previousJson = partial && File.Exists(jsonPath) ? File.ReadAllText(jsonPath) : null;
    File.WriteAllText(outPath, report.ToMarkdown(header, measuredAt, previousMarkdown));
    File.WriteAllText(jsonPath, report.ToJson(machine, measuredAt, previousJson));
    Console.WriteLine($"wrote {outPath} and {jsonPath}");
}
else
{
    Console.WriteLine(report.ToMarkdown(header, measuredAt));
}

return 0;
