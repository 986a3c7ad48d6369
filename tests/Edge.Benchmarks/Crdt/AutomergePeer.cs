using System.Diagnostics;
using System.Text.Json;

namespace CortexEdge.Benchmarks.Crdt;

/// <summary>
/// Runs the same workloads in Automerge (npm @automerge/automerge from $CE_BENCH_PEERS) through a
/// node script: replica A makes each change, replica B applies the binary changes one at a time.
/// </summary>
internal static class AutomergePeer
{
    // Workload ops match CrdtBenchmarkSuite exactly: counter +1; set phase (i / 100) % 2 adds or
    // removes element i % 100 (a map key = true / delete, Automerge has no set type); map key
    // (i * 31) % 1000 = i.
    private const string Script = """
        const A = require('@automerge/automerge');
        const n = parseInt(process.argv[2], 10);
        const version = JSON.parse(require('fs').readFileSync(require('path').join(process.env.NODE_PATH, '@automerge', 'automerge', 'package.json'), 'utf8')).version;
        function pct(sorted, p) { const r = Math.max(0, Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)); return sorted[r]; }
        function run(name, init, op) {
          let a = A.from(init);
          const base = A.getAllChanges(a);
          const changes = [];
          for (let i = 0; i < n; i++) { a = A.change(a, d => op(d, i)); changes.push(A.getLastLocalChange(a)); }
          let b = A.init(); [b] = A.applyChanges(b, base);
          // warm-up on a throwaway replica
          let w = A.init(); [w] = A.applyChanges(w, base); for (let i = 0; i < Math.min(200, n); i++) { [w] = A.applyChanges(w, [changes[i]]); }
          const lat = new Float64Array(n);
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < n; i++) { const s = process.hrtime.bigint(); [b] = A.applyChanges(b, [changes[i]]); lat[i] = Number(process.hrtime.bigint() - s) / 1000; }
          const total = Number(process.hrtime.bigint() - t0) / 1e9;
          const sizes = Float64Array.from(changes.map(c => c.length)).sort();
          lat.sort();
          console.log(JSON.stringify({ name, version, throughput: n / total, p50us: pct(lat, 50), p99us: pct(lat, 99), deltaBytes: pct(sizes, 50), stateBytes: A.save(b).length }));
        }
        run('counter', { c: new A.Counter(0) }, (d, i) => { d.c.increment(1); });
        run('set', { s: {} }, (d, i) => { const e = 'e' + (i % 100); if (Math.floor(i / 100) % 2 === 0) d.s[e] = true; else delete d.s[e]; });
        run('map', { m: {} }, (d, i) => { d.m['k' + ((i * 31) % 1000)] = i; });
        """;

    public sealed record Result(string Version, double Throughput, double P50Microseconds, double P99Microseconds, double DeltaBytes, double StateBytes);

    /// <summary>Runs the script; returns the results by workload name, or an explanation of why the peer is unavailable.</summary>
    public static async Task<(Dictionary<string, Result>? Results, string? Unavailable)> RunAsync(int operations, CancellationToken cancellationToken)
    {
        string? peers = Environment.GetEnvironmentVariable("CE_BENCH_PEERS");
        if (string.IsNullOrEmpty(peers) || !Directory.Exists(Path.Combine(peers, "node_modules", "@automerge", "automerge")))
        {
            return (null, "Automerge not installed ($CE_BENCH_PEERS/node_modules/@automerge/automerge missing)");
        }

        string scriptPath = Path.Combine(Path.GetTempPath(), $"ce-automerge-{Environment.ProcessId}.cjs");
        await File.WriteAllTextAsync(scriptPath, Script, cancellationToken);
        try
        {
            var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(scriptPath);
            start.ArgumentList.Add(operations.ToString(System.Globalization.CultureInfo.InvariantCulture));
            start.Environment["NODE_PATH"] = Path.Combine(peers, "node_modules");
            using Process process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(5));
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode != 0)
            {
                string error = (await stderr).Split('\n').FirstOrDefault(l => l.Contains("Error", StringComparison.Ordinal))?.Trim() ?? "no message";
                return (null, $"Automerge script failed (node exit {process.ExitCode}): {error}");
            }

            var results = new Dictionary<string, Result>();
            foreach (string line in (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                using JsonDocument json = JsonDocument.Parse(line);
                JsonElement root = json.RootElement;
                results[root.GetProperty("name").GetString()!] = new Result(
                    root.GetProperty("version").GetString()!,
                    root.GetProperty("throughput").GetDouble(),
                    root.GetProperty("p50us").GetDouble(),
                    root.GetProperty("p99us").GetDouble(),
                    root.GetProperty("deltaBytes").GetDouble(),
                    root.GetProperty("stateBytes").GetDouble());
            }

            return (results, null);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            return (null, $"node could not be started: {exception.Message}");
        }
        finally
        {
            File.Delete(scriptPath);
        }
    }
}
