using System.Diagnostics;
using System.Globalization;
using System.Text;
using CortexEdge.Agent.Configuration;
using CortexEdge.Agent.Ingest;
using CortexEdge.Benchmarks.Binary;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Benchmarks.Mqtt;
using CortexEdge.Core;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Mqtt;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Benchmarks.Agent;

/// <summary>
/// The gateway agent: ingest from MQTT publish to durable series beside a row-per-reading SQLite
/// subscriber on the same MQTT client and batching (so storage is the difference); flash bytes per
/// reading from /proc/self/io; and the daemon's idle footprint beside mosquitto's.
/// </summary>
public sealed class AgentBenchmarks : BenchmarkSuite
{
    private const int SlowRatePerSecond = 200;

    public override string Name => "agent";

    public override string Title => "Gateway agent: ingest, flash bytes, idle footprint";

    public override async Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        // 20,000 readings per series: enough for chunks to close (about 7,700 readings of this data
        // fill a 4000-byte chunk), so the figure includes writing them to SQLite, not just the WAL.
        int readings = Math.Max(2000, (int)(200_000 * scale));
        await using BenchmarkMosquitto broker = await BenchmarkMosquitto.StartAsync();
        var (oursRate, oursBytes, oursCreation) = await IngestIntoEdgeDatabaseAsync(broker.Port, readings, 0, cancellationToken);
        var (peerRate, peerBytes, peerCreation) = await IngestIntoSqliteRowsAsync(broker.Port, readings, 0, cancellationToken);
        var batching = new SensorIngestOptions();
        report.Compare("ingest, MQTT publish -> durable", "readings/s", oursRate, "SQLite row per reading, same client + batching", peerRate, lowerIsBetter: false,
            $"{readings:N0} QoS 1 readings, 10 series, batches of <= {batching.BatchMaxReadings} readings / {batching.BatchMaxDelay.TotalMilliseconds:0} ms, each message acknowledged once its batch is durable, Group(10 ms) vs synchronous=FULL");
        // Creating the database is a one-time cost (schema pages), reported apart from the per-reading figure.
        report.Compare("flash bytes written per reading", "B", oursBytes, "SQLite row per reading", peerBytes, lowerIsBetter: true,
            $"write_bytes from /proc/self/io once the database exists, through checkpointing and closing it (SQLite WAL copied into the file; creating it: {oursCreation / 1024.0:0} KiB vs {peerCreation / 1024.0:0} KiB, once); target <= 3");

        // A gateway's real rate is low: batches then close on their delay, not their size, and each
        // flush writes at least one page however few readings it holds.
        int slowReadings = Math.Max(400, (int)(1000 * scale));
        var (_, oursSlowBytes, _) = await IngestIntoEdgeDatabaseAsync(broker.Port, slowReadings, SlowRatePerSecond, cancellationToken);
        var (_, peerSlowBytes, _) = await IngestIntoSqliteRowsAsync(broker.Port, slowReadings, SlowRatePerSecond, cancellationToken);
        report.Compare($"flash bytes written per reading at {SlowRatePerSecond} readings/s", "B", oursSlowBytes, "SQLite row per reading", peerSlowBytes, lowerIsBetter: true,
            $"{slowReadings:N0} readings over {slowReadings / (double)SlowRatePerSecond:0} s, same settings: a batch per {batching.BatchMaxDelay.TotalMilliseconds:0} ms holds about {SlowRatePerSecond * batching.BatchMaxDelay.TotalSeconds:0} readings and its flush writes at least one 4 KiB page, about 4096 / (rate x batch delay) per reading, the rest the closing checkpoint (docs/operations.md, Flash)");

        string binary = Environment.GetEnvironmentVariable("CE_BENCH_BINARY") ?? Path.Combine(BinaryBenchmarks.RepositoryRoot(), "out/publish/linux-x64/cortex-edge");
        if (!File.Exists(binary))
        {
            report.Note($"Idle figures skipped: {binary} not found (build/publish.sh linux-x64).");
            return;
        }

        TimeSpan idleWindow = TimeSpan.FromSeconds(Math.Max(5, 20 * scale));
        var ours = await MeasureDaemonAsync(broker.Port, binary, idleWindow, cancellationToken);
        var peer = await MeasureMosquittoAsync(idleWindow, cancellationToken);
        report.Compare("start-up to ready", "ms", ours.StartupMs, "mosquitto start-up to listening", peer.StartupMs, lowerIsBetter: true, "agent: exec to /healthz 200");
        report.Compare("idle RSS", "MB", ours.RssMb, "mosquitto idle RSS", peer.RssMb, lowerIsBetter: true, "target <= 20 MB");
        report.Compare("wake-ups per minute at idle", "/min", ours.WakeupsPerMinute, "mosquitto", peer.WakeupsPerMinute, lowerIsBetter: true,
            $"context switches of all threads over {idleWindow.TotalSeconds:0} s idle, per minute");
    }

    /// <param name="ratePerSecond">Readings published per second; 0 publishes as fast as the broker takes them.</param>
    private static async Task<(double Rate, double BytesPerReading, long CreationBytes)> IngestIntoEdgeDatabaseAsync(int port, int count, int ratePerSecond, CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("ce-bench-agent-").FullName;
        try
        {
            long creationBefore = WriteBytes();
            // The agent's own settings: group commit and its checkpoint interval.
            await using var database = EdgeDatabase.Open(directory, new EdgeDatabaseOptions
            {
                Durability = WalDurability.Group(TimeSpan.FromMilliseconds(10)),
                CheckpointInterval = TimeSpan.FromMilliseconds(new DurabilityConfig().CheckpointIntervalMs),
            });
            long bytesBefore = WriteBytes();
            var rules = IngestRule.FromConfig(new IngestConfig { Rules = [new IngestRuleConfig { Topic = "bench/+/temp", Series = "{1}", Format = "number" }] });
            // As the agent: each message acknowledged once its batch is durable.
            await using var subscriber = new MqttClient(new MqttClientOptions { Port = port, ReceiveQueueCountMax = 10_000, ManualAcknowledgement = true });
            await subscriber.ConnectAsync(cancellationToken);
            await subscriber.SubscribeAsync("bench/+/temp", MqttQualityOfService.AtLeastOnce, cancellationToken);
            var ingest = new SensorIngest(database, rules, new SensorIngestOptions());
            using var stop = new CancellationTokenSource();
            Task pump = ingest.RunAsync(subscriber.Messages, stop.Token);
            var stopwatch = Stopwatch.StartNew();
            await PublishAsync(port, count, ratePerSecond, cancellationToken);
            while (ingest.StoredReadings < count)
            {
                if (ingest.StoredReadings + ingest.PendingReadings >= count)
                {
                    // The last reading is in: write now rather than wait out the batch delay, as the
                    // peer's loop commits its last transaction at the count.
                    await ingest.FlushAsync(cancellationToken);
                }

                await Task.Delay(5, cancellationToken);
            }

            double rate = count / stopwatch.Elapsed.TotalSeconds;
            stop.Cancel();
            await pump;
            await database.CheckpointAsync(cancellationToken);
            // Closing runs SQLite's own checkpoint (its WAL into state.db), as the peer's TRUNCATE
            // checkpoint does: the bytes until the data rests in its final place.
            await database.DisposeAsync();
            return (rate, (WriteBytes() - bytesBefore) / (double)count, bytesBefore - creationBefore);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<(double Rate, double BytesPerReading, long CreationBytes)> IngestIntoSqliteRowsAsync(int port, int count, int ratePerSecond, CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("ce-bench-agent-sqlite-").FullName;
        try
        {
            long creationBefore = WriteBytes();
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "rows.db")}");
            connection.Open();
            Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE readings(series TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY(series, ts)) WITHOUT ROWID;");
            long bytesBefore = WriteBytes();
            await using var subscriber = new MqttClient(new MqttClientOptions { Port = port, ReceiveQueueCountMax = 10_000, ManualAcknowledgement = true });
            await subscriber.ConnectAsync(cancellationToken);
            await subscriber.SubscribeAsync("bench/+/temp", MqttQualityOfService.AtLeastOnce, cancellationToken);
            var batchMessages = new List<MqttMessage>();
            using SqliteCommand insert = connection.CreateCommand();
            insert.CommandText = "INSERT OR REPLACE INTO readings(series, ts, value) VALUES ($s, $t, $v)";
            SqliteParameter s = insert.Parameters.Add("$s", SqliteType.Text);
            SqliteParameter t = insert.Parameters.Add("$t", SqliteType.Integer);
            SqliteParameter v = insert.Parameters.Add("$v", SqliteType.Real);
            var stopwatch = Stopwatch.StartNew();
            Task publishing = PublishAsync(port, count, ratePerSecond, cancellationToken);
            int stored = 0;
            var lastTs = new Dictionary<string, long>();
            // Same batching as the agent: up to BatchMaxReadings readings or BatchMaxDelay per transaction.
            var batching = new SensorIngestOptions();
            while (stored < count)
            {
                using SqliteTransaction transaction = connection.BeginTransaction();
                insert.Transaction = transaction;
                var batchStart = Stopwatch.StartNew();
                int inBatch = 0;
                while (inBatch < batching.BatchMaxReadings && batchStart.Elapsed < batching.BatchMaxDelay && stored + inBatch < count)
                {
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    wait.CancelAfter(batching.BatchMaxDelay);
                    MqttMessage message;
                    try
                    {
                        message = await subscriber.Messages.ReadAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }

                    string series = message.Topic.Split('/')[1];
                    long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                    long ts = lastTs.TryGetValue(series, out long last) && now <= last ? last + 1 : now;
                    lastTs[series] = ts;
                    s.Value = series;
                    t.Value = ts;
                    v.Value = double.Parse(Encoding.ASCII.GetString(message.Payload.Span), CultureInfo.InvariantCulture);
                    insert.ExecuteNonQuery();
                    batchMessages.Add(message);
                    inBatch++;
                }

                transaction.Commit();
                foreach (MqttMessage message in batchMessages)
                {
                    message.Acknowledge();
                }

                batchMessages.Clear();
                stored += inBatch;
            }

            double rate = count / stopwatch.Elapsed.TotalSeconds;
            await publishing;
            Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
            return (rate, (WriteBytes() - bytesBefore) / (double)count, bytesBefore - creationBefore);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task PublishAsync(int port, int count, int ratePerSecond, CancellationToken cancellationToken)
    {
        await using var publisher = new MqttClient(new MqttClientOptions { Port = port, InflightCountMax = 200, OutgoingQueueCountMax = 100_000 });
        await publisher.ConnectAsync(cancellationToken);
        var pending = new List<Task>(1000);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            // Paced: reading i goes out at i / rate seconds (in small bursts, as the timer allows).
            while (ratePerSecond > 0 && i >= clock.Elapsed.TotalSeconds * ratePerSecond)
            {
                await Task.Delay(5, cancellationToken);
            }

            byte[] payload = Encoding.ASCII.GetBytes((20 + (i % 100) * 0.01).ToString("0.00", CultureInfo.InvariantCulture));
            pending.Add(publisher.PublishAsync($"bench/s{i % 10}/temp", payload, MqttQualityOfService.AtLeastOnce, cancellationToken: cancellationToken).AsTask());
            if (pending.Count == 1000)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long WriteBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/io"))
        {
            if (line.StartsWith("write_bytes:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan("write_bytes:".Length).Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private sealed record Footprint(double StartupMs, double RssMb, double WakeupsPerMinute);

    private static async Task<Footprint> MeasureDaemonAsync(int brokerPort, string binary, TimeSpan idleWindow, CancellationToken cancellationToken)
    {
        string directory = Directory.CreateTempSubdirectory("ce-bench-daemon-").FullName;
        int apiPort = FreePort();
        string config = Path.Combine(directory, "agent.json");
        File.WriteAllText(config, $$"""
            { "role": "edge", "node": "bench", "dataDirectory": "{{Path.Combine(directory, "data")}}",
              "brokers": { "local": { "host": "127.0.0.1", "port": {{brokerPort}} } },
              "ingest": { "rules": [ { "topic": "idle/+/temp", "series": "{1}", "format": "number" } ] },
              "api": { "bind": "127.0.0.1:{{apiPort}}" } }
            """);
        var stopwatch = Stopwatch.StartNew();
        using Process process = Process.Start(new ProcessStartInfo(binary, ["run", "--config", config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        while (true)
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{apiPort}/healthz", cancellationToken)).IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (stopwatch.Elapsed > TimeSpan.FromSeconds(30) || process.HasExited)
            {
                throw new InvalidOperationException("the agent did not become ready");
            }

            await Task.Delay(5, cancellationToken);
        }

        double startup = stopwatch.Elapsed.TotalMilliseconds;
        Footprint footprint = await IdleAsync(process.Id, startup, idleWindow, cancellationToken);
        process.Kill();
        await process.WaitForExitAsync(cancellationToken);
        Directory.Delete(directory, recursive: true);
        return footprint;
    }

    private static async Task<Footprint> MeasureMosquittoAsync(TimeSpan idleWindow, CancellationToken cancellationToken)
    {
        int port = FreePort();
        string config = Path.Combine(Path.GetTempPath(), $"ce-bench-idle-mosquitto-{Environment.ProcessId}.conf");
        File.WriteAllText(config, $"listener {port} 127.0.0.1\nallow_anonymous true\n");
        var stopwatch = Stopwatch.StartNew();
        using Process process = Process.Start(new ProcessStartInfo("mosquitto", ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        while (true)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync("127.0.0.1", port, cancellationToken);
                break;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(5, cancellationToken);
            }
        }

        double startup = stopwatch.Elapsed.TotalMilliseconds;
        Footprint footprint = await IdleAsync(process.Id, startup, idleWindow, cancellationToken);
        process.Kill();
        await process.WaitForExitAsync(cancellationToken);
        File.Delete(config);
        return footprint;
    }

    private static async Task<Footprint> IdleAsync(int pid, double startupMs, TimeSpan window, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken); // let start-up work settle
        long before = ContextSwitches(pid);
        await Task.Delay(window, cancellationToken);
        long after = ContextSwitches(pid);
        double rssKb = 0;
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rssKb = double.Parse(line.AsSpan(6).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return new Footprint(startupMs, rssKb / 1024.0, (after - before) / window.TotalMinutes);
    }

    private static long ContextSwitches(int pid)
    {
        long total = 0;
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                foreach (string line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        total += long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
                // The thread ended between listing and reading.
            }
        }

        return total;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
