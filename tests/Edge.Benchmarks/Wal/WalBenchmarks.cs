using System.Diagnostics;
using System.Globalization;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Benchmarks.Wal;

/// <summary>
/// The write-ahead log beside SQLite (WAL journal mode, prepared INSERT, one transaction per write),
/// measured in the same run on the same disk: append + acknowledge latency in None / Always and
/// throughput of 8 concurrent writers in Group(10 ms); recovery speed of reopening 1M records beside
/// SQLite reopening and counting the same rows; peak RSS of each phase.
/// </summary>
public sealed class WalBenchmarks : BenchmarkSuite
{
    private const int PayloadBytes = 100;
    private const int GroupWriterCount = 8;

    public override string Name => "wal";

    public override string Title => "Write-ahead log: acknowledged appends and recovery";

    public override async Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        string root = Path.Combine(Environment.GetEnvironmentVariable("CE_BENCH_DIR") ?? Path.GetTempPath(), "ce-bench-wal-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        try
        {
            byte[] payload = new byte[PayloadBytes];
            new Random(42).NextBytes(payload);
            int noneCount = Scaled(200_000, scale);
            int alwaysCount = Scaled(2_000, scale);
            int groupCount = Scaled(4_000, scale) / GroupWriterCount * GroupWriterCount;
            int recoveryCount = Scaled(1_000_000, scale);

            // Each comparison alternates rounds of ours and SQLite's, so both see the same disk
            // conditions (the disk is shared and its latency drifts).
            // None vs SQLite synchronous=NORMAL: neither waits for the disk on commit.
            (TickSamples none, TickSamples sqliteNormal, long allocatedPerAppend) =
                CompareLatency(root, "none", WalDurability.None, "NORMAL", noneCount, Scaled(50_000, scale), payload);
            report.Compare("append+ack p50, None vs synchronous=NORMAL", "us", none.P50Micros, "SQLite NORMAL", sqliteNormal.P50Micros, lowerIsBetter: true);
            report.Compare("append+ack p99, None vs synchronous=NORMAL", "us", none.P99Micros, "SQLite NORMAL", sqliteNormal.P99Micros, lowerIsBetter: true, "target: None p99 < 20 us");
            report.Figure("bytes allocated per append (None)", "B", allocatedPerAppend, "GC.GetAllocatedBytesForCurrentThread over the run / appends");

            // Always vs SQLite synchronous=FULL: both flush to the disk per acknowledged write.
            (TickSamples always, TickSamples sqliteFull, _) =
                CompareLatency(root, "always", WalDurability.Always, "FULL", alwaysCount, alwaysCount, payload);
            report.Compare("append+ack p50, Always vs synchronous=FULL", "us", always.P50Micros, "SQLite FULL", sqliteFull.P50Micros, lowerIsBetter: true);
            report.Compare("append+ack p99, Always vs synchronous=FULL", "us", always.P99Micros, "SQLite FULL", sqliteFull.P99Micros, lowerIsBetter: true);

            // Group commit: 8 writers each waiting for its own acknowledgement.
            GroupComparison group = await CompareGroupAsync(root, groupCount, payload);
            report.Compare($"durable writes/s, Group(10 ms) x{GroupWriterCount} writers vs FULL", "ops/s", group.OursPerSecond, $"SQLite FULL, {GroupWriterCount} writers", group.PeerPerSecond, lowerIsBetter: false,
                $"same guarantee: a write is acknowledged only once on disk (our msync of the group, SQLite's WAL fsync at COMMIT); same {PayloadBytes}-byte payload; {group.Flushes} flushes for {groupCount} acknowledged writes; target >= 5x");
            report.Compare($"ack p50, Group(10 ms) x{GroupWriterCount} vs FULL x{GroupWriterCount}", "us", Micros(group.Ours.P50), $"SQLite FULL, {GroupWriterCount} writers", Micros(group.Peer.P50), lowerIsBetter: true);
            report.Compare($"ack p99, Group(10 ms) x{GroupWriterCount} vs FULL x{GroupWriterCount}", "us", Micros(group.Ours.P99), $"SQLite FULL, {GroupWriterCount} writers", Micros(group.Peer.P99), lowerIsBetter: true);

            // Recovery: reopen after 1M records never checkpointed.
            (double walRecordsPerSecond, double walSeconds, double walRssMb) = MeasureWalRecovery(Path.Combine(root, "recovery"), recoveryCount, payload);
            (double sqliteRowsPerSecond, double sqliteSeconds, double sqliteRssMb) = MeasureSqliteRecovery(Path.Combine(root, "recovery.db"), recoveryCount, payload);
            report.Compare($"recovery of {recoveryCount:N0} records", "records/s", walRecordsPerSecond, "SQLite open + count(*)", sqliteRowsPerSecond, lowerIsBetter: false,
                $"ours {walSeconds * 1000:0} ms (every record CRC-checked), SQLite {sqliteSeconds * 1000:0} ms; target >= 1M records/s");
            report.Compare("peak RSS added by recovery", "MB", walRssMb, "SQLite open + count(*)", sqliteRssMb, lowerIsBetter: true,
                "VmHWM (reset before the phase) minus VmRSS before it: memory the reopen itself takes");
            report.Figure("process peak RSS (whole suite)", "MB", PeakRssMb(), "VmHWM of the benchmark process");
            report.Note($"WAL suite: {PayloadBytes}-byte payloads; the WAL's payload is appended as one record, SQLite's as one row (INTEGER PRIMARY KEY, BLOB) by a prepared INSERT in its own transaction, WAL journal mode. " +
                $"None: {noneCount:N0} appends; SQLite NORMAL: {Scaled(50_000, scale):N0} inserts; Always/FULL: {alwaysCount:N0} each; Group: {groupCount:N0} writes by {GroupWriterCount} threads (SQLite: {GroupWriterCount} threads sharing one connection, serialized). " +
                $"Each comparison alternates {RoundCount} rounds of ours and SQLite's so both see the same (shared, drifting) disk. " +
                "Per-write latencies of None/NORMAL and Always/FULL are nearest-rank percentiles of raw Stopwatch ticks (a None append is faster than a TimeSpan's 100 ns resolution). " +
                "Files under CE_BENCH_DIR (default the temp directory).");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static int Scaled(int count, double scale) => Math.Max(GroupWriterCount, (int)(count * scale));

    private static double Micros(TimeSpan value) => value.TotalMilliseconds * 1000;

    private static WalOptions Options(WalDurability durability) => new() { Durability = durability, SegmentBytes = 16L << 20, QuotaBytes = 8L << 30, ReplicaId = 1 };

    private const int RoundCount = 10;

    /// <summary>
    /// Per-write latency of append + wait-for-durable (ours) and of a one-transaction INSERT (SQLite),
    /// in alternating rounds. Also returns the bytes our appends allocated per write.
    /// </summary>
    private static (TickSamples Ours, TickSamples Peer, long AllocatedPerAppend) CompareLatency(
        string root, string name, WalDurability durability, string synchronous, int oursCount, int peerCount, byte[] payload)
    {
        using WriteAheadLog log = WriteAheadLog.Open(Path.Combine(root, name), Options(durability));
        using SqliteConnection connection = OpenSqlite(Path.Combine(root, name + ".db"), synchronous);
        using var inserter = new SqliteInserter(connection, payload);
        for (int i = 0; i < Math.Min(1000, oursCount / 10); i++)
        {
            log.WaitForDurableAsync(log.Append(WalRecordKind.Document, payload)).GetAwaiter().GetResult();
        }

        for (int i = 0; i < Math.Min(1000, peerCount / 10); i++)
        {
            inserter.Insert();
        }

        var ours = new TickSamples(oursCount);
        var peer = new TickSamples(peerCount);
        long allocated = 0;
        for (int round = 0; round < RoundCount; round++)
        {
            int count = oursCount / RoundCount;
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < count; i++)
            {
                long start = Stopwatch.GetTimestamp();
                long lsn = log.Append(WalRecordKind.Document, payload);
                log.WaitForDurableAsync(lsn).GetAwaiter().GetResult();
                ours.Stop(start);
            }

            // The recorders were sized up front, so what was allocated is the WAL's.
            allocated += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            for (int i = 0; i < peerCount / RoundCount; i++)
            {
                long start = Stopwatch.GetTimestamp();
                inserter.Insert();
                peer.Stop(start);
            }
        }

        return (ours, peer, allocated / Math.Max(1, ours.Count));
    }

    /// <summary>
    /// Raw Stopwatch ticks with the nearest-rank percentile of <see cref="LatencyRecorder"/>, in
    /// microseconds as a double: a None-mode append takes well under the 100 ns a TimeSpan resolves.
    /// </summary>
    private sealed class TickSamples(int capacity)
    {
        private readonly long[] _ticks = new long[capacity];

        public int Count { get; private set; }

        public void Stop(long startTimestamp) => _ticks[Count++] = Stopwatch.GetTimestamp() - startTimestamp;

        public double P50Micros => Percentile(50);

        public double P99Micros => Percentile(99);

        private double Percentile(double p)
        {
            long[] sorted = _ticks[..Count];
            Array.Sort(sorted);
            int rank = Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1);
            return sorted[rank] * 1e6 / Stopwatch.Frequency;
        }
    }

    private sealed record GroupComparison(LatencyRecorder Ours, double OursPerSecond, long Flushes, LatencyRecorder Peer, double PeerPerSecond);

    /// <summary>
    /// Eight writers, each appending and waiting for its own acknowledgement: Group(10 ms) beside SQLite
    /// FULL with eight threads sharing one connection (SQLite serializes writers), alternating rounds.
    /// </summary>
    private static async Task<GroupComparison> CompareGroupAsync(string root, int count, byte[] payload)
    {
        using WriteAheadLog log = WriteAheadLog.Open(Path.Combine(root, "group"), Options(WalDurability.Group(TimeSpan.FromMilliseconds(10))));
        using SqliteConnection connection = OpenSqlite(Path.Combine(root, "group.db"), "FULL");
        using var inserter = new SqliteInserter(connection, payload);
        var gate = new Lock();
        var ours = new LatencyRecorder(count);
        var peer = new LatencyRecorder(count);
        double oursSeconds = 0;
        double peerSeconds = 0;
        long flushesBefore = log.FlushCount;
        int perWriter = count / RoundCount / GroupWriterCount;
        for (int round = 0; round < RoundCount; round++)
        {
            oursSeconds += await RunWritersAsync(ours, perWriter, async () =>
            {
                long lsn = log.Append(WalRecordKind.Document, payload);
                await log.WaitForDurableAsync(lsn);
            });
            peerSeconds += await RunWritersAsync(peer, perWriter, () =>
            {
                lock (gate)
                {
                    inserter.Insert();
                }

                return ValueTask.CompletedTask;
            });
        }

        return new GroupComparison(ours, ours.Count / oursSeconds, log.FlushCount - flushesBefore, peer, peer.Count / peerSeconds);
    }

    /// <summary>Runs <see cref="GroupWriterCount"/> writers doing <paramref name="perWriter"/> operations each; returns the wall time in seconds.</summary>
    private static async Task<double> RunWritersAsync(LatencyRecorder recorder, int perWriter, Func<ValueTask> operation)
    {
        var samples = new long[GroupWriterCount * perWriter];
        long startAll = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, GroupWriterCount).Select(writer => Task.Run(async () =>
        {
            for (int i = 0; i < perWriter; i++)
            {
                long start = Stopwatch.GetTimestamp();
                await operation();
                samples[writer * perWriter + i] = Stopwatch.GetTimestamp() - start;
            }
        })));
        double seconds = Stopwatch.GetElapsedTime(startAll).TotalSeconds;
        foreach (long ticks in samples)
        {
            recorder.Add(TimeSpan.FromSeconds(ticks / (double)Stopwatch.Frequency));
        }

        return seconds;
    }

    private static SqliteConnection OpenSqlite(string path, string synchronous)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL;");
        Execute(connection, $"PRAGMA synchronous={synchronous};");
        Execute(connection, "CREATE TABLE IF NOT EXISTS log (lsn INTEGER PRIMARY KEY, kind INTEGER NOT NULL, payload BLOB NOT NULL);");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>One prepared INSERT, one transaction per write (autocommit), on one connection.</summary>
    private sealed class SqliteInserter : IDisposable
    {
        private readonly SqliteCommand _insert;
        private readonly SqliteParameter _lsn;
        private readonly SqliteParameter _payload;
        private long _next = 1;

        public SqliteInserter(SqliteConnection connection, byte[] payload)
        {
            _insert = connection.CreateCommand();
            _insert.CommandText = "INSERT INTO log (lsn, kind, payload) VALUES ($lsn, 16, $payload);";
            _lsn = _insert.Parameters.Add("$lsn", SqliteType.Integer);
            _payload = _insert.Parameters.Add("$payload", SqliteType.Blob);
            _payload.Value = payload;
            _lsn.Value = 0L;
            _insert.Prepare();
        }

        public void Insert()
        {
            _lsn.Value = _next++;
            _insert.ExecuteNonQuery();
        }

        public void Dispose() => _insert.Dispose();
    }

    private static (double RecordsPerSecond, double Seconds, double PeakRssMb) MeasureWalRecovery(string directory, int count, byte[] payload)
    {
        using (WriteAheadLog log = WriteAheadLog.Open(directory, Options(WalDurability.None)))
        {
            for (int i = 0; i < count; i++)
            {
                log.Append(WalRecordKind.Document, payload);
            }
        }

        GC.Collect();
        double baselineMb = ResetPeakRss();
        long start = Stopwatch.GetTimestamp();
        using WriteAheadLog reopened = WriteAheadLog.Open(directory, Options(WalDurability.None));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (reopened.LastLsn != count || reopened.Recovery.RecordCount != count)
        {
            throw new InvalidOperationException($"recovery found {reopened.Recovery.RecordCount} records, expected {count}");
        }

        return (count / seconds, seconds, PeakRssMb() - baselineMb);
    }

    private static (double RowsPerSecond, double Seconds, double PeakRssMb) MeasureSqliteRecovery(string path, int count, byte[] payload)
    {
        using (SqliteConnection connection = OpenSqlite(path, "NORMAL"))
        {
            using SqliteTransaction transaction = connection.BeginTransaction();
            using var inserter = new SqliteInserter(connection, payload);
            for (int i = 0; i < count; i++)
            {
                inserter.Insert();
            }

            transaction.Commit();
        }

        GC.Collect();
        double baselineMb = ResetPeakRss();
        long start = Stopwatch.GetTimestamp();
        long rows;
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM log;";
            rows = (long)command.ExecuteScalar()!;
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (rows != count)
        {
            throw new InvalidOperationException($"SQLite counted {rows} rows, expected {count}");
        }

        return (count / seconds, seconds, PeakRssMb() - baselineMb);
    }

    /// <summary>
    /// Resets VmHWM (Linux: writing 5 to /proc/self/clear_refs) so the next reading is this phase's
    /// peak, and returns the current VmRSS in MB (the phase's baseline).
    /// </summary>
    private static double ResetPeakRss()
    {
        File.WriteAllText("/proc/self/clear_refs", "5");
        return StatusMb("VmRSS:");
    }

    private static double PeakRssMb() => StatusMb("VmHWM:");

    private static double StatusMb(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        throw new InvalidOperationException($"/proc/self/status has no {field} line");
    }
}
