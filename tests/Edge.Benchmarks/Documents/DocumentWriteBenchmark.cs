using System.Diagnostics;
using System.Globalization;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Core;
using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Benchmarks.Documents;

/// <summary>
/// Acknowledged document writes (p50/p99 latency, throughput) in None, Group(10 ms) with 1 and 8
/// writers, and Always, each beside SQLite doing one transaction per write (WAL journal, prepared
/// statement, synchronous=NORMAL and FULL) in the same run, on the same disk. Peak RSS per run is
/// the process's VmHWM after resetting it (Linux /proc/self/clear_refs).
/// </summary>
public sealed class DocumentWriteBenchmark : BenchmarkSuite
{
    private const string Document = "{\"temp\":21.5,\"humidity\":40.25,\"room\":\"kitchen\",\"on\":true}";

    public override string Name => "documents";

    public override string Title => "Documents: acknowledged writes vs SQLite one transaction per write";

    public override async Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        string root = Path.Combine(Environment.GetEnvironmentVariable("CE_BENCH_DIR") ?? Path.Combine(AppContext.BaseDirectory, "bench-data"), "documents-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            int Scaled(int count) => Math.Max(50, (int)(count * scale));

            Run sqliteNormal = RunSqlite(root, "NORMAL", Scaled(20_000));
            Run sqliteFull = RunSqlite(root, "FULL", Scaled(1_000));

            Run none = await RunEdge(root, WalDurability.None, writers: 1, Scaled(200_000), cancellationToken);
            report.Compare("None: p50 latency", "us", none.P50, "SQLite NORMAL", sqliteNormal.P50, lowerIsBetter: true);
            report.Compare("None: p99 latency", "us", none.P99, "SQLite NORMAL", sqliteNormal.P99, lowerIsBetter: true, note: "target < 20 us");
            report.Compare("None: throughput, 1 writer", "writes/s", none.Throughput, "SQLite NORMAL", sqliteNormal.Throughput, lowerIsBetter: false);

            Run group = await RunEdge(root, WalDurability.Group(TimeSpan.FromMilliseconds(10)), writers: 1, Scaled(1_000), cancellationToken);
            report.Compare("Group(10 ms): p50 latency, 1 writer", "us", group.P50, "SQLite FULL", sqliteFull.P50, lowerIsBetter: true);
            report.Compare("Group(10 ms): p99 latency, 1 writer", "us", group.P99, "SQLite FULL", sqliteFull.P99, lowerIsBetter: true);

            GroupComparison group8 = await CompareGroup(root, Scaled(24_000), cancellationToken);
            report.Compare($"Group(10 ms): p50 latency, {GroupWriterCount} writers", "us", group8.Ours.P50, $"SQLite FULL, {GroupWriterCount} writers", group8.Peer.P50, lowerIsBetter: true);
            report.Compare($"Group(10 ms): p99 latency, {GroupWriterCount} writers", "us", group8.Ours.P99, $"SQLite FULL, {GroupWriterCount} writers", group8.Peer.P99, lowerIsBetter: true);
            report.Compare($"Group(10 ms): throughput, {GroupWriterCount} writers", "writes/s", group8.Ours.Throughput, $"SQLite FULL, {GroupWriterCount} writers", group8.Peer.Throughput, lowerIsBetter: false,
                note: $"same durability (each write acknowledged only once fsynced), same document; {group8.Flushes} WAL flushes for {group8.Ours.Count} writes; {RoundCount} alternating rounds; target >= 5x");

            Run always = await RunEdge(root, WalDurability.Always, writers: 1, Scaled(1_000), cancellationToken);
            report.Compare("Always: p50 latency", "us", always.P50, "SQLite FULL", sqliteFull.P50, lowerIsBetter: true);
            report.Compare("Always: p99 latency", "us", always.P99, "SQLite FULL", sqliteFull.P99, lowerIsBetter: true);
            report.Compare("Always: throughput, 1 writer", "writes/s", always.Throughput, "SQLite FULL", sqliteFull.Throughput, lowerIsBetter: false);

            (double checkpointRate, double sqliteBatchRate, double reopenRate, int replayed, double checkpointCpu, double sqliteCpu) = await RunCheckpointAndReopen(root, Scaled(100_000), cancellationToken);
            report.Compare("checkpoint into SQLite", "records/s", checkpointRate, "SQLite INSERT, one transaction", sqliteBatchRate, lowerIsBetter: false,
                note: "background batch: decode, merge LWW state, upsert state + JSON");
            report.Compare("checkpoint CPU time per record", "us", checkpointCpu, "SQLite INSERT, one transaction", sqliteCpu, lowerIsBetter: true,
                note: "process CPU time (user+system, all threads) over the checkpoint / records: robust to other load on the machine, unlike records/s");
            report.Figure("reopen with un-checkpointed records", "records/s", reopenRate, $"{replayed} records replayed into memory (the default lag bound); WAL scan included");

            report.Compare("peak RSS, None run", "MiB", none.PeakRssMiB, "SQLite NORMAL run", sqliteNormal.PeakRssMiB, lowerIsBetter: true);
            report.Compare("peak RSS, Group 8-writer run", "MiB", group8.Ours.PeakRssMiB, "SQLite FULL 8-writer run", group8.Peer.PeakRssMiB, lowerIsBetter: true);
            report.Figure("peak RSS, Always run", "MiB", always.PeakRssMiB, "VmHWM of the benchmark process during the run");
            report.Note($"Document `{Document}` in one collection, distinct keys. Ours: `EdgeDatabase.PutAsync` awaited until acknowledged " +
                "(WAL append + in-memory apply + durability wait; background checkpoint into SQLite running). SQLite: Microsoft.Data.Sqlite, WAL journal, " +
                "one prepared `INSERT OR REPLACE` per `BEGIN`/`COMMIT`; single writer, except in the 8-writer Group comparison, where 8 threads share one connection under a lock " +
                "(SQLite serializes writers; it cannot commit several transactions with one fsync) and rounds of ours and SQLite's alternate so both see the same disk. " +
                $"Counts: None {none.Count}, Group {group.Count} (1 writer) and {group8.Ours.Count} (8 writers; SQLite {group8.Peer.Count}), Always {always.Count}, SQLite NORMAL {sqliteNormal.Count}, FULL {sqliteFull.Count}. " +
                "Peak RSS resets VmHWM before each run; it includes the .NET runtime.");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<(double CheckpointRate, double SqliteRate, double ReopenRate, int Replayed, double CheckpointCpuMicros, double SqliteCpuMicros)> RunCheckpointAndReopen(string root, int count, CancellationToken cancellationToken)
    {
        string directory = Path.Combine(root, "edge-checkpoint");
        var options = new EdgeDatabaseOptions
        {
            Durability = WalDurability.None,
            WalSegmentBytes = 64L << 20,
            CheckpointInterval = TimeSpan.FromHours(1),
            CheckpointRecordCount = int.MaxValue,
            CheckpointLagRecordCountMax = int.MaxValue,
        };
        double checkpointRate;
        double checkpointCpu;
        using (var parsed = System.Text.Json.JsonDocument.Parse(Document))
        {
            EdgeDatabase database = EdgeDatabase.Open(directory, options);
            for (int i = 0; i < count; i++)
            {
                await database.PutAsync("bench", "sensor/" + i.ToString(CultureInfo.InvariantCulture), parsed.RootElement, cancellationToken);
            }

            TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            await database.CheckpointAsync(cancellationToken);
            checkpointRate = count / Stopwatch.GetElapsedTime(start).TotalSeconds;
            checkpointCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / count;

            // Reopen after a crash with the most un-checkpointed records the default lag bound allows.
            int replay = new EdgeDatabaseOptions().CheckpointLagRecordCountMax;
            for (int i = 0; i < replay; i++)
            {
                await database.PutAsync("bench", "replay/" + i.ToString(CultureInfo.InvariantCulture), parsed.RootElement, cancellationToken);
            }

            database.CloseWithoutCheckpoint();
        }

        long reopenStart = Stopwatch.GetTimestamp();
        double reopenRate;
        int replayed;
        using (EdgeDatabase reopened = EdgeDatabase.Open(directory, options))
        {
            TimeSpan elapsed = Stopwatch.GetElapsedTime(reopenStart);
            replayed = (int)reopened.GetStats().ReplayedRecordCount;
            reopenRate = replayed / elapsed.TotalSeconds;
        }

        string path = Path.Combine(root, "sqlite-batch.db");
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using (SqliteCommand setup = connection.CreateCommand())
        {
            setup.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE docs(collection TEXT NOT NULL, key TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY(collection, key)) WITHOUT ROWID;";
            setup.ExecuteNonQuery();
        }

        TimeSpan sqliteCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long sqliteStart = Stopwatch.GetTimestamp();
        using (SqliteTransaction transaction = connection.BeginTransaction())
        {
            using SqliteCommand insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT OR REPLACE INTO docs(collection, key, json) VALUES('bench', $key, $json)";
            SqliteParameter key = insert.Parameters.Add("$key", SqliteType.Text);
            insert.Parameters.AddWithValue("$json", Document);
            insert.Prepare();
            for (int i = 0; i < count; i++)
            {
                key.Value = "sensor/" + i.ToString(CultureInfo.InvariantCulture);
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        double sqliteRate = count / Stopwatch.GetElapsedTime(sqliteStart).TotalSeconds;
        double sqliteCpu = (Process.GetCurrentProcess().TotalProcessorTime - sqliteCpuBefore).TotalMicroseconds / count;
        return (checkpointRate, sqliteRate, reopenRate, replayed, checkpointCpu, sqliteCpu);
    }

    private readonly record struct Run(int Count, double P50, double P99, double Throughput, double PeakRssMiB);

    private const int GroupWriterCount = 8;
    private const int RoundCount = 10;

    private readonly record struct GroupComparison(Run Ours, Run Peer, long Flushes);

    /// <summary>
    /// Group(10 ms) with 8 concurrent writers beside SQLite FULL with 8 writers (one connection under a
    /// lock, one transaction per write), in alternating rounds on the same disk. Both acknowledge a
    /// write only after it is on disk (our WAL flush; SQLite's WAL fsync at commit).
    /// </summary>
    private static async Task<GroupComparison> CompareGroup(string root, int count, CancellationToken cancellationToken)
    {
        await using EdgeDatabase database = EdgeDatabase.Open(Path.Combine(root, "edge-group-8"),
            new EdgeDatabaseOptions { Durability = WalDurability.Group(TimeSpan.FromMilliseconds(10)), WalSegmentBytes = 64L << 20 });
        using SqliteConnection connection = OpenDocumentsTable(Path.Combine(root, "sqlite-group-8.db"), "FULL");
        using var sqlite = new SqliteDocumentWriter(connection);
        using var parsed = System.Text.Json.JsonDocument.Parse(Document);
        System.Text.Json.JsonElement element = parsed.RootElement;
        for (int i = 0; i < Math.Min(2_000, count); i++)
        {
            await database.PutAsync("warmup", "w" + i.ToString(CultureInfo.InvariantCulture), element, cancellationToken);
            sqlite.Write("w" + i.ToString(CultureInfo.InvariantCulture));
        }

        string[] keys = [.. Enumerable.Range(0, count).Select(i => "sensor/" + i.ToString(CultureInfo.InvariantCulture))];
        var gate = new Lock();
        var ours = new LatencyRecorder(count);
        var peer = new LatencyRecorder(count);
        double oursSeconds = 0;
        double peerSeconds = 0;
        double oursPeak = 0;
        double peerPeak = 0;
        long flushesBefore = database.GetStats().WalFlushCount;
        int perRound = count / RoundCount;
        for (int round = 0; round < RoundCount; round++)
        {
            int first = round * perRound;
            ResetPeakRss();
            oursSeconds += await RunWriters(ours, first, perRound, index => database.PutAsync("bench", keys[index], element, cancellationToken).AsTask());
            oursPeak = Math.Max(oursPeak, PeakRssMiB());
            ResetPeakRss();
            peerSeconds += await RunWriters(peer, first, perRound, index =>
            {
                lock (gate)
                {
                    sqlite.Write(keys[index]);
                }

                return Task.CompletedTask;
            });
            peerPeak = Math.Max(peerPeak, PeakRssMiB());
        }

        long flushes = database.GetStats().WalFlushCount - flushesBefore;
        return new GroupComparison(
            new Run(ours.Count, ours.P50.TotalMicroseconds, ours.P99.TotalMicroseconds, ours.Count / oursSeconds, oursPeak),
            new Run(peer.Count, peer.P50.TotalMicroseconds, peer.P99.TotalMicroseconds, peer.Count / peerSeconds, peerPeak),
            flushes);
    }

    /// <summary>Runs <see cref="GroupWriterCount"/> writers over indexes [first, first + count); returns the wall time in seconds.</summary>
    private static async Task<double> RunWriters(LatencyRecorder recorder, int first, int count, Func<int, Task> write)
    {
        int next = first - 1;
        int end = first + count;
        long startTimestamp = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, GroupWriterCount).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < end)
            {
                long start = LatencyRecorder.Start();
                await write(index).ConfigureAwait(false);
                lock (recorder)
                {
                    recorder.Stop(start);
                }
            }
        })));
        return Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
    }

    private static SqliteConnection OpenDocumentsTable(string path, string synchronous)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using SqliteCommand setup = connection.CreateCommand();
        setup.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; CREATE TABLE docs(collection TEXT NOT NULL, key TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY(collection, key)) WITHOUT ROWID;";
        setup.ExecuteNonQuery();
        return connection;
    }

    /// <summary>SQLite's side: prepared BEGIN / INSERT OR REPLACE / COMMIT, one transaction per document.</summary>
    private sealed class SqliteDocumentWriter : IDisposable
    {
        private readonly SqliteCommand _begin;
        private readonly SqliteCommand _commit;
        private readonly SqliteCommand _insert;
        private readonly SqliteParameter _key;

        public SqliteDocumentWriter(SqliteConnection connection)
        {
            _begin = connection.CreateCommand();
            _begin.CommandText = "BEGIN";
            _begin.Prepare();
            _commit = connection.CreateCommand();
            _commit.CommandText = "COMMIT";
            _commit.Prepare();
            _insert = connection.CreateCommand();
            _insert.CommandText = "INSERT OR REPLACE INTO docs(collection, key, json) VALUES('bench', $key, $json)";
            _key = _insert.Parameters.Add("$key", SqliteType.Text);
            _insert.Parameters.AddWithValue("$json", Document);
            _insert.Prepare();
        }

        public void Write(string key)
        {
            _begin.ExecuteNonQuery();
            _key.Value = key;
            _insert.ExecuteNonQuery();
            _commit.ExecuteNonQuery();
        }

        public void Dispose()
        {
            _begin.Dispose();
            _commit.Dispose();
            _insert.Dispose();
        }
    }

    private static async Task<Run> RunEdge(string root, WalDurability durability, int writers, int count, CancellationToken cancellationToken)
    {
        string directory = Path.Combine(root, $"edge-{durability.Mode}-{writers}");
        await using EdgeDatabase database = EdgeDatabase.Open(directory, new EdgeDatabaseOptions { Durability = durability, WalSegmentBytes = 64L << 20 });
        for (int i = 0; i < Math.Min(2_000, count); i++)
        {
            await database.PutAsync("warmup", "w" + i.ToString(CultureInfo.InvariantCulture), Document, cancellationToken);
        }

        using var parsed = System.Text.Json.JsonDocument.Parse(Document);
        System.Text.Json.JsonElement element = parsed.RootElement;
        string[] keys = [.. Enumerable.Range(0, count).Select(i => "sensor/" + i.ToString(CultureInfo.InvariantCulture))];
        ResetPeakRss();
        var all = new LatencyRecorder(count);
        int next = -1;
        long startTimestamp = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                long start = LatencyRecorder.Start();
                await database.PutAsync("bench", keys[index], element, cancellationToken).ConfigureAwait(false);
                lock (all)
                {
                    all.Stop(start);
                }
            }
        }, cancellationToken)));
        TimeSpan elapsed = Stopwatch.GetElapsedTime(startTimestamp);
        double peak = PeakRssMiB();
        EdgeDatabaseStats stats = database.GetStats();
        Console.WriteLine($"  ({durability}, {writers} writers: checkpoint lag {stats.LastLsn - stats.CheckpointLsn} records, overlay {stats.OverlayDocumentCount} documents, " +
            $"GC heap {GC.GetTotalMemory(false) / (1024 * 1024)} MiB, peak RSS {peak:0} MiB)");
        return new Run(count, all.P50.TotalMicroseconds, all.P99.TotalMicroseconds, count / elapsed.TotalSeconds, peak);
    }

    private static Run RunSqlite(string root, string synchronous, int count)
    {
        string path = Path.Combine(root, $"sqlite-{synchronous}.db");
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using (SqliteCommand setup = connection.CreateCommand())
        {
            setup.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; CREATE TABLE docs(collection TEXT NOT NULL, key TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY(collection, key)) WITHOUT ROWID;";
            setup.ExecuteNonQuery();
        }

        using SqliteCommand begin = connection.CreateCommand();
        begin.CommandText = "BEGIN";
        begin.Prepare();
        using SqliteCommand commit = connection.CreateCommand();
        commit.CommandText = "COMMIT";
        commit.Prepare();
        using SqliteCommand insert = connection.CreateCommand();
        insert.CommandText = "INSERT OR REPLACE INTO docs(collection, key, json) VALUES('bench', $key, $json)";
        SqliteParameter key = insert.Parameters.Add("$key", SqliteType.Text);
        insert.Parameters.AddWithValue("$json", Document);
        insert.Prepare();
        void Write(string k)
        {
            begin.ExecuteNonQuery();
            key.Value = k;
            insert.ExecuteNonQuery();
            commit.ExecuteNonQuery();
        }

        for (int i = 0; i < Math.Min(2_000, count); i++)
        {
            Write("w" + i.ToString(CultureInfo.InvariantCulture));
        }

        string[] keys = [.. Enumerable.Range(0, count).Select(i => "sensor/" + i.ToString(CultureInfo.InvariantCulture))];
        ResetPeakRss();
        var recorder = new LatencyRecorder(count);
        long startTimestamp = Stopwatch.GetTimestamp();
        foreach (string k in keys)
        {
            long start = LatencyRecorder.Start();
            Write(k);
            recorder.Stop(start);
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(startTimestamp);
        return new Run(count, recorder.P50.TotalMicroseconds, recorder.P99.TotalMicroseconds, count / elapsed.TotalSeconds, PeakRssMiB());
    }

    private static void ResetPeakRss()
    {
        // Return the previous runs' garbage to the OS first, so each run's peak is its own.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (IOException)
        {
            // Not Linux or not permitted: the figure is then the process's lifetime peak.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static double PeakRssMiB()
    {
        if (File.Exists("/proc/self/status"))
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }

        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
