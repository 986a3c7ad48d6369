using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using CortexEdge.Core;
using CortexEdge.Core.Platform;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Replication;

namespace CortexEdge.Agent.Tests.Cli;

internal static class ReplicaNativeSetup
{
    [ModuleInitializer]
    internal static void Initialize() => NativeLibraryResolver.Initialize();
}

/// <summary>
/// `cortex-edge replica` as a real process, SIGKILLed at random points while the leader (in this
/// process, behind a real mosquitto) keeps writing: after every kill the replica's WAL recovers to a
/// byte-identical prefix of the leader's that never moved back, and at the end it converges with equal
/// documents. CE_REPL_KILL_CYCLES cycles (default 30); the seed is printed and replayed from CE_TEST_SEED.
/// </summary>
public sealed class ReplicaCommandsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-replcli-" + Guid.NewGuid().ToString("N")[..10]);

    public ReplicaCommandsTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task ReplicaProcess_SigkillCycles_ResumesWithoutSkipOrRepeat_EndsIdentical()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int s) ? s : Environment.TickCount;
        int cycles = int.TryParse(Environment.GetEnvironmentVariable("CE_REPL_KILL_CYCLES"), out int c) ? c : 30;
        var random = new Random(seed);
        int port = FreePort();
        string config = Path.Combine(_root, "mosquitto.conf");
        await File.WriteAllTextAsync(config, $"listener {port} 127.0.0.1\nallow_anonymous true\n");
        using Process broker = Process.Start(new ProcessStartInfo("mosquitto", ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        try
        {
            await Task.Delay(300);
            await using EdgeDatabase leaderDb = EdgeDatabase.Open(Path.Combine(_root, "leader"));
            await using var leader = new ReplicationLeader(leaderDb, new MqttClientOptions { Port = port, ClientId = "leader-" + seed }, "kill");
            await leader.StartAsync();
            using var stopWriting = new CancellationTokenSource();
            Task writer = Task.Run(async () =>
            {
                int i = 0;
                while (!stopWriting.IsCancellationRequested)
                {
                    await leaderDb.PutAsync("docs", $"k{i % 300}", $"{{\"i\":{i}}}");
                    i++;
                    if (i % 50 == 0)
                    {
                        await Task.Delay(5);
                    }
                }
            });

            string replicaDir = Path.Combine(_root, "replica");
            long previous = 0;
            for (int cycle = 0; cycle < cycles; cycle++)
            {
                using Process replica = StartReplica(replicaDir, port);
                string context = $"seed {seed} (replay with CE_TEST_SEED={seed}) cycle {cycle}";
                Task<string?> ready = ReadLineContainingAsync(replica, "following fleet"); // delay from the replica being up, not from exec
                Assert.True(await Task.WhenAny(ready, Task.Delay(TimeSpan.FromSeconds(60))) == ready && await ready is not null, $"{context}: the replica did not start");
                await Task.Delay(300 + random.Next(900));
                replica.Kill(); // SIGKILL
                await replica.WaitForExitAsync();
                using EdgeDatabase recovered = EdgeDatabase.Open(replicaDir, new EdgeDatabaseOptions { CreateIfMissing = false });
                Assert.True(recovered.Wal.LastLsn >= previous, $"{context}: replica went back from LSN {previous} to {recovered.Wal.LastLsn}");
                AssertWalPrefix(leaderDb, recovered, context);
                previous = recovered.Wal.LastLsn;
            }

            await stopWriting.CancelAsync();
            await writer;
            await leaderDb.FlushAsync();
            long end = leaderDb.Wal.LastLsn;
            Assert.True(previous > 0, $"seed {seed}: the replica never received anything");
            using (Process last = StartReplica(replicaDir, port))
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (leader.GetReplicas().FirstOrDefault().AcknowledgedLsn < end && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }

                last.Kill();
                await last.WaitForExitAsync();
            }

            using EdgeDatabase final = EdgeDatabase.Open(replicaDir, new EdgeDatabaseOptions { CreateIfMissing = false });
            Assert.Equal(end, final.Wal.LastLsn);
            AssertWalPrefix(leaderDb, final, $"seed {seed} final");
            var expected = leaderDb.Scan("docs").Select(d => (d.Key, d.ToString())).ToList();
            var actual = final.Scan("docs").Select(d => (d.Key, d.ToString())).ToList();
            Assert.Equal(expected, actual);
        }
        finally
        {
            broker.Kill();
            await broker.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task LeaderProcess_SigkillCycles_ReplicaNeverHoldsWhatLeaderLost_EndsIdentical()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int s) ? s : Environment.TickCount;
        int cycles = int.TryParse(Environment.GetEnvironmentVariable("CE_REPL_KILL_CYCLES"), out int c) ? c : 30;
        var random = new Random(seed);
        int port = FreePort();
        string config = Path.Combine(_root, "mosquitto.conf");
        await File.WriteAllTextAsync(config, $"listener {port} 127.0.0.1\nallow_anonymous true\n");
        using Process broker = Process.Start(new ProcessStartInfo("mosquitto", ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        try
        {
            await Task.Delay(300);
            string leaderDir = Path.Combine(_root, "leader");
            await using var follower = new ReplicationFollower(Path.Combine(_root, "replica"), new MqttClientOptions { Port = port, ClientId = "replica-" + seed }, "kill2", "r1");
            await follower.StartAsync();
            long previous = 0;
            for (int cycle = 0; cycle <= cycles; cycle++)
            {
                bool last = cycle == cycles;
                using Process leaderProcess = StartProcess(["replica", "leader", "--db", leaderDir, "--broker", $"127.0.0.1:{port}", "--fleet", "kill2", "--demo-writes-per-second", last ? "0" : "400"]);
                string context = $"seed {seed} (replay with CE_TEST_SEED={seed}) cycle {cycle}";
                // The kill delay counts from the leader being up (database open, broker reached), not
                // from exec: a loaded machine can take longer than the delay just to start the process.
                Task<string?> ready = ReadLineContainingAsync(leaderProcess, "leader of fleet");
                Assert.True(await Task.WhenAny(ready, Task.Delay(TimeSpan.FromSeconds(60))) == ready && await ready is not null, $"{context}: the leader did not start");
                if (last)
                {
                    // Let the replica catch up with the leader's whole log, then stop it the hard way too.
                    await Task.Delay(1500);
                }
                else
                {
                    await Task.Delay(300 + random.Next(900));
                }

                if (last)
                {
                    long target = -1;
                    var deadline = DateTime.UtcNow.AddSeconds(60);
                    while (DateTime.UtcNow < deadline && follower.GetStatus() is { } status && (status.LeaderLsn == 0 || status.AppliedLsn < status.LeaderLsn || status.AppliedLsn != target))
                    {
                        target = status.LeaderLsn;
                        await Task.Delay(200);
                    }
                }

                leaderProcess.Kill(); // SIGKILL
                await leaderProcess.WaitForExitAsync();
                Assert.Null(follower.GetStatus().HaltReason);
                long replicaLsn = follower.Database.Wal.LastLsn;
                using EdgeDatabase recovered = EdgeDatabase.Open(leaderDir, new EdgeDatabaseOptions { CreateIfMissing = false });
                Assert.True(replicaLsn >= previous, $"{context}: the replica went back from {previous} to {replicaLsn}");
                Assert.True(replicaLsn <= recovered.Wal.LastLsn, $"{context}: the replica holds LSN {replicaLsn}, which the leader lost (it recovered to {recovered.Wal.LastLsn})");
                AssertWalPrefix(recovered, follower.Database, replicaLsn, context);
                previous = replicaLsn;
                if (last)
                {
                    Assert.Equal(recovered.Wal.LastLsn, replicaLsn);
                    var expected = recovered.Scan("demo").Select(d => (d.Key, d.ToString())).ToList();
                    var actual = follower.Database.Scan("demo").Select(d => (d.Key, d.ToString())).ToList();
                    Assert.Equal(expected, actual);
                }
            }

            Assert.True(previous > 0, $"seed {seed}: nothing was replicated");
        }
        finally
        {
            broker.Kill();
            await broker.WaitForExitAsync();
        }
    }

    private static async Task<string?> ReadLineContainingAsync(Process process, string text)
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.Contains(text, StringComparison.Ordinal))
            {
                return line;
            }
        }

        return null;
    }

    private static Process StartProcess(string[] arguments)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "cortex-edge.dll");
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        return Process.Start(start) ?? throw new InvalidOperationException("cortex-edge did not start");
    }

    private static Process StartReplica(string directory, int port)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "cortex-edge.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "replica", "--db", directory, "--broker", $"127.0.0.1:{port}", "--fleet", "kill", "--name", "r1", "--status-seconds", "0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return Process.Start(start) ?? throw new InvalidOperationException("cortex-edge did not start");
    }

    private static void AssertWalPrefix(EdgeDatabase leader, EdgeDatabase replica, string context) => AssertWalPrefix(leader, replica, replica.Wal.LastLsn, context);

    private static void AssertWalPrefix(EdgeDatabase leader, EdgeDatabase replica, long last, string context)
    {
        long first = Math.Max(replica.Wal.FirstLsn, leader.Wal.FirstLsn);
        Assert.True(last <= leader.Wal.LastLsn, $"{context}: replica holds LSN {last} past the leader's {leader.Wal.LastLsn}");
        if (first > last)
        {
            return;
        }

        using WalReader mine = replica.Wal.OpenReader(first);
        using WalReader theirs = leader.Wal.OpenReader(first);
        for (long lsn = first; lsn <= last; lsn++)
        {
            Assert.True(mine.TryRead(out WalRecord a), $"{context}: replica record {lsn} missing");
            Assert.True(theirs.TryRead(out WalRecord b), $"{context}: leader record {lsn} missing");
            Assert.True(a.Encoded.SequenceEqual(b.Encoded), $"{context}: record {lsn} differs");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
