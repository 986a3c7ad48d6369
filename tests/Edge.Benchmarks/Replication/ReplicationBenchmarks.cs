using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Core;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Replication;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Benchmarks.Replication;

/// <summary>
/// Leader -> replica WAL replication through a real mosquitto on loopback, in one process:
/// (1) replicated records/s and replication delay p50/p99 while 4 writers load the leader, beside
/// the leader's own acknowledged write rate (the replica keeps up when the two match);
/// (2) catch-up rate of a fresh replica from N records behind, beside copying the same WAL segment
/// files (the byte-transfer floor: no network, no verification, no apply);
/// (3) snapshot transfer MB/s, beside SQLite's own online backup API copying the same state file.
/// </summary>
public sealed class ReplicationBenchmarks : BenchmarkSuite
{
    public override string Name => "replication";

    public override string Title => "Replication: leader -> read replica over MQTT";

    public override async Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        string root = Path.Combine(Environment.GetEnvironmentVariable("CE_BENCH_DIR") ?? Path.GetTempPath(), "ce-bench-repl-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        using Process broker = StartBroker(root, out int port);
        try
        {
            await Task.Delay(300, cancellationToken);
            await SustainedAsync(report, root, port, TimeSpan.FromSeconds(Math.Max(2, 8 * scale)), cancellationToken);
            await CatchUpAsync(report, root, port, Math.Max(10_000, (int)(300_000 * scale)), cancellationToken);
            await SnapshotAsync(report, root, port, Math.Max(5_000, (int)(100_000 * scale)), cancellationToken);
        }
        finally
        {
            broker.Kill();
            await broker.WaitForExitAsync(CancellationToken.None);
            Directory.Delete(root, recursive: true);
        }
    }

    private static Process StartBroker(string root, out int port)
    {
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        string config = Path.Combine(root, "mosquitto.conf");
        File.WriteAllText(config, $"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n");
        return Process.Start(new ProcessStartInfo("mosquitto", ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true })
            ?? throw new InvalidOperationException("mosquitto did not start");
    }

    private static MqttClientOptions Mqtt(int port, string id) => new()
    {
        Port = port,
        ClientId = id + "-" + Guid.NewGuid().ToString("N")[..8],
        ReceiveQueueCountMax = 8192,
        OutgoingQueueCountMax = 100_000,
    };

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"benchmark timed out waiting for {what}");
            }

            await Task.Delay(2);
        }
    }

    private static async Task SustainedAsync(BenchmarkReport report, string root, int port, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using EdgeDatabase leaderDb = EdgeDatabase.Open(Path.Combine(root, "s-leader"));
        await using var leader = new ReplicationLeader(leaderDb, Mqtt(port, "leader"), "bench1");
        await leader.StartAsync(cancellationToken);
        await using var follower = new ReplicationFollower(Path.Combine(root, "s-replica"), Mqtt(port, "replica"), "bench1", "r1");
        await follower.StartAsync(cancellationToken);
        using var stop = new CancellationTokenSource(duration);
        long written = 0;
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            int i = 0;
            while (!stop.IsCancellationRequested)
            {
                await leaderDb.PutAsync("sensors", $"s{w}-{i++ % 1000}", "{\"t\":21.5,\"h\":40,\"ok\":true}");
                Interlocked.Increment(ref written);
            }
        })).ToArray();

        // Delay: for a leader LSN seen at time t, how long until the replica holds it.
        var delay = new LatencyRecorder(100_000);
        var lagRecords = new List<long>(100_000);
        var pending = new Queue<(long Lsn, long Timestamp)>();
        var clock = Stopwatch.StartNew();
        long startLsn = leaderDb.Wal.LastLsn;
        while (!stop.IsCancellationRequested)
        {
            long leaderLsn = leaderDb.Wal.DurableLsn;
            long replicaLsn = follower.Database.Wal.LastLsn;
            pending.Enqueue((leaderLsn, Stopwatch.GetTimestamp()));
            while (pending.Count > 0 && pending.Peek().Lsn <= replicaLsn)
            {
                delay.Stop(pending.Dequeue().Timestamp);
            }

            lagRecords.Add(Math.Max(0, leaderDb.Wal.LastLsn - replicaLsn));
            await Task.Delay(1, CancellationToken.None);
        }

        await Task.WhenAll(writers);
        double writeSeconds = clock.Elapsed.TotalSeconds;
        await leaderDb.FlushAsync(cancellationToken);
        long end = leaderDb.Wal.LastLsn;
        await WaitForAsync(() => follower.Database.Wal.LastLsn >= end, TimeSpan.FromMinutes(2), "the replica to catch up");
        double replicateSeconds = clock.Elapsed.TotalSeconds;
        double leaderRate = (end - startLsn) / writeSeconds;
        double replicaRate = (end - startLsn) / replicateSeconds;
        lagRecords.Sort();
        report.Compare("replicated records/s under 4-writer load", "records/s", replicaRate, "leader's own acknowledged writes/s", leaderRate, lowerIsBetter: false,
            $"{end - startLsn} records in {writeSeconds:0.0} s of load; replica done {replicateSeconds - writeSeconds:0.00} s after the writers stopped");
        report.Figure("replication delay p50 (leader durable -> replica applied)", "ms", delay.P50.TotalMilliseconds, "sampled every ~1 ms during the load");
        report.Figure("replication delay p99", "ms", delay.P99.TotalMilliseconds, "bounded lag = the replica keeps up");
        report.Figure("lag p50 in records", "records", lagRecords[lagRecords.Count / 2], "leader LastLsn - replica LastLsn, sampled");
        report.Figure("lag p99 in records", "records", lagRecords[(int)(lagRecords.Count * 0.99)], "sampled");
    }

    private static async Task CatchUpAsync(BenchmarkReport report, string root, int port, int records, CancellationToken cancellationToken)
    {
        string leaderDir = Path.Combine(root, "c-leader");
        await using EdgeDatabase leaderDb = EdgeDatabase.Open(leaderDir, new EdgeDatabaseOptions { Durability = WalDurability.None });
        leaderDb.Wal.SetRetentionHold("bench-catch-up", 1); // keep the whole log: measure the stream, not a snapshot
        for (int i = 0; i < records; i++)
        {
            await leaderDb.PutAsync("sensors", $"k{i % 5000}", "{\"t\":21.5,\"h\":40,\"ok\":true}", cancellationToken);
        }

        await leaderDb.FlushAsync(cancellationToken);
        long end = leaderDb.Wal.LastLsn;
        await using var leader = new ReplicationLeader(leaderDb, Mqtt(port, "leader"), "bench2",
            new ReplicationLeaderOptions { Protocol = new ReplicationOptions { BatchRecordCountMax = 2048, WindowRecordCountMax = 32768 } });
        await leader.StartAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        await using var follower = new ReplicationFollower(Path.Combine(root, "c-replica"), Mqtt(port, "replica"), "bench2", "r1",
            new ReplicationOptions { BatchRecordCountMax = 2048, WindowRecordCountMax = 32768 }, new EdgeDatabaseOptions { Durability = WalDurability.None });
        await follower.StartAsync(cancellationToken);
        await WaitForAsync(() => follower.Database.Wal.LastLsn >= end, TimeSpan.FromMinutes(3), "catch-up");
        double seconds = clock.Elapsed.TotalSeconds;
        if (leaderDb.Wal.FirstLsn != 1)
        {
            // With the whole log on the leader the replica streams from LSN 1; a snapshot would skew the figure.
            throw new InvalidOperationException("the leader's log was trimmed; the catch-up figure would include a snapshot");
        }

        // Peer: copy the same segment files (what rsync of the WAL directory would move, minus its protocol).
        string copyTarget = Path.Combine(root, "c-copy");
        Directory.CreateDirectory(copyTarget);
        var copyClock = Stopwatch.StartNew();
        foreach (string file in Directory.EnumerateFiles(Path.Combine(leaderDir, EdgeDatabase.WalDirectoryName)))
        {
            File.Copy(file, Path.Combine(copyTarget, Path.GetFileName(file)));
        }

        double copySeconds = copyClock.Elapsed.TotalSeconds;
        report.Compare($"catch-up from {end} records behind", "records/s", end / seconds, "file copy of the WAL segments", end / copySeconds, lowerIsBetter: false,
            "ours: over MQTT, every record CRC-checked, appended and applied; the copy is the local byte-transfer floor");
    }

    private static async Task SnapshotAsync(BenchmarkReport report, string root, int port, int documents, CancellationToken cancellationToken)
    {
        string leaderDir = Path.Combine(root, "p-leader");
        var options = new EdgeDatabaseOptions { Durability = WalDurability.None, WalSegmentBytes = 1 << 20 };
        await using EdgeDatabase leaderDb = EdgeDatabase.Open(leaderDir, options);
        string pad = new('x', 200);
        for (int i = 0; i < documents; i++)
        {
            await leaderDb.PutAsync("docs", $"doc{i:D8}", $"{{\"i\":{i},\"pad\":\"{pad}\"}}", cancellationToken);
        }

        await leaderDb.CheckpointAsync(cancellationToken);
        await leaderDb.PutAsync("docs", "last", "{}", cancellationToken);
        await leaderDb.CheckpointAsync(cancellationToken);
        var protocol = new ReplicationOptions { SnapshotChunkBytes = 512 << 10, SnapshotWindowChunkCountMax = 8 };
        await using var leader = new ReplicationLeader(leaderDb, Mqtt(port, "leader"), "bench3", new ReplicationLeaderOptions { Protocol = protocol });
        await leader.StartAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        await using var follower = new ReplicationFollower(Path.Combine(root, "p-replica"), Mqtt(port, "replica"), "bench3", "r1", protocol, options);
        await follower.StartAsync(cancellationToken);
        long end = leaderDb.Wal.LastLsn;
        await WaitForAsync(() => follower.Database.Wal.LastLsn >= end, TimeSpan.FromMinutes(3), "snapshot install");
        double seconds = clock.Elapsed.TotalSeconds;
        long bytes = new FileInfo(Path.Combine(follower.Database.Directory, "state.db")).Length;
        bool viaSnapshot = follower.Database.Wal.FirstLsn > 1;

        // Peer: SQLite's online backup API copying the leader's state file to a new file.
        string backupPath = Path.Combine(root, "p-backup.db");
        var backupClock = Stopwatch.StartNew();
        using (var source = new SqliteConnection($"Data Source={Path.Combine(leaderDir, "state.db")};Mode=ReadOnly;Pooling=False"))
        using (var target = new SqliteConnection($"Data Source={backupPath};Pooling=False"))
        {
            source.Open();
            target.Open();
            source.BackupDatabase(target);
        }

        double backupSeconds = backupClock.Elapsed.TotalSeconds;
        long backupBytes = new FileInfo(backupPath).Length;
        report.Compare("snapshot transfer (make, send, verify, install)", "MB/s", bytes / 1e6 / seconds, "SQLite backup API, local file", backupBytes / 1e6 / backupSeconds, lowerIsBetter: false,
            $"{bytes / 1e6:0.0} MB state; path {(viaSnapshot ? "snapshot" : "STREAM (log was not pruned)")}; ours includes checkpoint + VACUUM INTO + MQTT + CRC + directory swap");
    }
}
