using System.Diagnostics;
using System.Text.Json;

namespace CortexEdge.Benchmarks.Sync;

/// <summary>
/// The same field-edit workload in Automerge (npm @automerge/automerge from $CE_BENCH_PEERS):
/// replica A makes n edits (one change each, key k(i mod keys) = i), then A and B run
/// Automerge's sync protocol (generateSyncMessage / receiveSyncMessage) until both are quiet.
/// Reports bytes exchanged and edits per second of the sync.
/// </summary>
internal static class AutomergeSyncPeer
{
    private const string Script = """
        const A = require('@automerge/automerge');
        const n = parseInt(process.argv[2], 10), keys = parseInt(process.argv[3], 10);
        const version = JSON.parse(require('fs').readFileSync(require('path').join(process.env.NODE_PATH, '@automerge', 'automerge', 'package.json'), 'utf8')).version;
        let a = A.from({ docs: {} });
        let b = A.clone(a);
        for (let i = 0; i < n; i++) { a = A.change(a, d => { d.docs['k' + (i % keys)] = 'value-' + i; }); }
        let sa = A.initSyncState(), sb = A.initSyncState();
        let bytes = 0, messages = 0;
        const t0 = process.hrtime.bigint();
        for (let round = 0; round < 10000; round++) {
          let m1, m2;
          [sa, m1] = A.generateSyncMessage(a, sa);
          if (m1) { bytes += m1.length; messages++; [b, sb] = A.receiveSyncMessage(b, sb, m1); }
          [sb, m2] = A.generateSyncMessage(b, sb);
          if (m2) { bytes += m2.length; messages++; [a, sa] = A.receiveSyncMessage(a, sa, m2); }
          if (!m1 && !m2) break;
        }
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        if (b.docs['k0'] !== a.docs['k0']) throw new Error('replicas did not converge');
        console.log(JSON.stringify({ version, opsPerSecond: n / seconds, bytes, messages }));
        """;

    public sealed record Result(string Version, double OpsPerSecond, long Bytes, int Messages);

    public static async Task<(Result? Result, string? Unavailable)> RunAsync(int edits, int keys, CancellationToken cancellationToken)
    {
        string? peers = Environment.GetEnvironmentVariable("CE_BENCH_PEERS");
        if (string.IsNullOrEmpty(peers) || !Directory.Exists(Path.Combine(peers, "node_modules", "@automerge", "automerge")))
        {
            return (null, "Automerge not installed ($CE_BENCH_PEERS/node_modules/@automerge/automerge missing)");
        }

        string scriptPath = Path.Combine(Path.GetTempPath(), $"ce-automerge-sync-{Environment.ProcessId}.cjs");
        await File.WriteAllTextAsync(scriptPath, Script, cancellationToken);
        try
        {
            var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(scriptPath);
            start.ArgumentList.Add(edits.ToString(System.Globalization.CultureInfo.InvariantCulture));
            start.ArgumentList.Add(keys.ToString(System.Globalization.CultureInfo.InvariantCulture));
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

            using JsonDocument json = JsonDocument.Parse((await stdout).Trim().Split('\n')[^1]);
            JsonElement root = json.RootElement;
            return (new Result(root.GetProperty("version").GetString()!, root.GetProperty("opsPerSecond").GetDouble(), root.GetProperty("bytes").GetInt64(), root.GetProperty("messages").GetInt32()), null);
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
