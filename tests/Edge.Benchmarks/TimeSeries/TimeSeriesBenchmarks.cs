using System.Diagnostics;
using System.Globalization;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Core;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Benchmarks.TimeSeries;

/// <summary>
/// Time series beside SQLite storing a row per reading (WITHOUT ROWID table, PRIMARY KEY(series, ts),
/// value REAL; WAL journal, synchronous=NORMAL, prepared INSERT in 1000-row transactions), measured
/// in the same run: bytes per reading per data shape (chunks alone, and the database files after
/// ingest), sustained ingest until checkpointed, bytes written to the device, range read of a day and
/// downsampling of a week (SQLite: GROUP BY bucket on the row table).
/// </summary>
public sealed class TimeSeriesBenchmarks : BenchmarkSuite
{
    private const long Start = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    private const int SqliteTransactionRows = 1000;

    public override string Name => "timeseries";

    public override string Title => "Time series: compressed chunks vs a row per reading";

    public override async Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        string root = Path.Combine(Environment.GetEnvironmentVariable("CE_BENCH_DIR") ?? Path.GetTempPath(), "ce-bench-ts-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        try
        {
            int shapeReadings = Scaled(86_400, scale); // a day at 1 s
            foreach (Shape shape in Shapes)
            {
                TimeSeriesReading[] readings = shape.Generate(new Random(42), shapeReadings);
                double ours = ChunkBytesPerReading(readings);
                double peer = SqliteBytesPerReading(Path.Combine(root, "shape-" + shape.Key + ".db"), [("s", readings)]);
                report.Compare($"bytes/reading, {shape.Title}", "B", ours, "SQLite row per reading", peer, lowerIsBetter: true,
                    "ours: chunk bytes incl. 84-byte headers / readings, chunks closed by the default bounds (8192 readings, 4000 bytes, 2 h), the head encoded too; SQLite: file size / readings");
            }

            int seriesCount = 100;
            int perSeries = Math.Max(10, Scaled(1_000_000, scale) / seriesCount);
            // Warm-up of both paths (JIT tiers, SQLite statement cache) on throwaway files, then the
            // measured runs. Two full-size runs each: tiered compilation (with dynamic PGO) takes
            // about two million readings to settle, and a shorter warm-up measured the append path
            // half-compiled (half the rate) whenever this suite ran alone.
            for (int warmup = 0; warmup < 2; warmup++)
            {
                await IngestOursAsync(Path.Combine(root, $"warmup-ours-{warmup}"), seriesCount, perSeries);
                IngestSqlite(Path.Combine(root, $"warmup-sqlite-{warmup}.db"), seriesCount, perSeries);
            }
            IngestResult ingest = await IngestOursAsync(Path.Combine(root, "ingest-ours"), seriesCount, perSeries);
            IngestResult sqliteIngest = IngestSqlite(Path.Combine(root, "ingest-sqlite.db"), seriesCount, perSeries);
            long total = (long)seriesCount * perSeries;
            report.Compare($"ingest {total:N0} readings / {seriesCount} series until checkpointed", "readings/s", total / ingest.Seconds, "SQLite 1000-row transactions", total / sqliteIngest.Seconds, lowerIsBetter: false,
                $"ours: one WAL record per tick (all {seriesCount} series), durability None, then CheckpointAsync; SQLite synchronous=NORMAL, then wal_checkpoint(TRUNCATE). Target >= 5x");
            report.Compare("ingest CPU time per reading (all threads)", "us", ingest.CpuSeconds * 1e6 / total, "SQLite 1000-row transactions", sqliteIngest.CpuSeconds * 1e6 / total, lowerIsBetter: true,
                "process CPU time (user+system) over the ingest, checkpointer included: robust to other load on the machine, unlike readings/s");
            if (ingest.ClosedReadings > 0 && ingest.ClosedReadings >= total / 2)
            {
                report.Compare("bytes on disk per reading after ingest", "B", ingest.DiskBytes / (double)ingest.ClosedReadings, "SQLite row per reading", sqliteIngest.DiskBytes / (double)total, lowerIsBetter: true,
                    $"ours: state.db (+ -wal) / the {ingest.ClosedReadings:N0} readings in closed chunks (the open heads live in the WAL, reported apart); SQLite: .db after TRUNCATE checkpoint / all rows. Target <= 1/10");
            }
            else
            {
                report.Figure("bytes on disk per reading after ingest", "B", 0, $"not measured: at this CE_BENCH_SCALE only {ingest.ClosedReadings:N0} of {total:N0} readings reached closed chunks");
            }

            report.Figure("WAL bytes on disk after ingest (ours)", "B/reading", ingest.WalBytes / (double)total, "segments kept for the open head chunks (retention hold) plus the active preallocated segment");
            if (ingest.DeviceWriteBytes >= 0 && sqliteIngest.DeviceWriteBytes >= 0)
            {
                report.Compare("bytes written to the device per reading", "B", ingest.DeviceWriteBytes / (double)total, "SQLite row per reading", sqliteIngest.DeviceWriteBytes / (double)total, lowerIsBetter: true,
                    "/proc/self/io write_bytes over the ingest (the WAL's mapped pages count when written back by the process's msync)");
            }

            // Queries on one series: a week at 1 s.
            int weekReadings = Scaled(604_800, scale);
            TimeSeriesReading[] week = Shapes[0].Generate(new Random(7), weekReadings);
            long weekEnd = week[^1].Timestamp + 1;
            string oursDirectory = Path.Combine(root, "query-ours");
            string sqlitePath = Path.Combine(root, "query-sqlite.db");
            await LoadOursAsync(oursDirectory, week);
            SqliteBytesPerReading(sqlitePath, [("week", week)]);
            using EdgeDatabase database = EdgeDatabase.Open(oursDirectory, QueryOptions);
            using var sqlite = new SqliteConnection($"Data Source={sqlitePath};Pooling=False");
            sqlite.Open();

            // A day in the middle of the week (shorter when CE_BENCH_SCALE shrinks the week).
            long dayLength = Math.Min(86_400_000L, (weekEnd - Start) / 3);
            long dayFrom = Start + dayLength;
            long dayTo = dayFrom + dayLength;
            var buffer = new List<TimeSeriesReading>(90_000);
            int rangeIterations = Math.Max(5, Scaled(40, scale));
            LatencyRecorder oursRange = LatencyRecorder.Measure(rangeIterations, () => { buffer.Clear(); database.ReadRange("week", dayFrom, dayTo, buffer); }, warmup: 2);
            int rangeCount = buffer.Count;
            LatencyRecorder peerRange = LatencyRecorder.Measure(rangeIterations, () => SqliteRange(sqlite, dayFrom, dayTo, rangeCount), warmup: 2);
            report.Compare($"range read of one day ({rangeCount:N0} readings) p50", "ms", Millis(oursRange.P50), "SQLite SELECT ts, value", Millis(peerRange.P50), lowerIsBetter: true);
            report.Compare($"range read of one day p99", "ms", Millis(oursRange.P99), "SQLite SELECT ts, value", Millis(peerRange.P99), lowerIsBetter: true);

            foreach ((string label, TimeSpan bucket) in new[] { ("1-minute", TimeSpan.FromMinutes(1)), ("1-day", TimeSpan.FromDays(1)) })
            {
                int bucketCount = 0;
                LatencyRecorder oursDownsample = LatencyRecorder.Measure(rangeIterations, () => bucketCount = database.Downsample("week", Start, weekEnd, bucket).Count, warmup: 2);
                LatencyRecorder peerDownsample = LatencyRecorder.Measure(Math.Max(3, rangeIterations / 4), () => SqliteDownsample(sqlite, Start, weekEnd, (long)bucket.TotalMilliseconds, bucketCount), warmup: 1);
                report.Compare($"downsample a week to {label} buckets ({bucketCount:N0}) p50", "ms", Millis(oursDownsample.P50), "SQLite GROUP BY ts / width", Millis(peerDownsample.P50), lowerIsBetter: true,
                    "min/max/avg/count per bucket; ours skips decoding chunks inside one bucket (header statistics)");
                report.Compare($"downsample a week to {label} buckets p99", "ms", Millis(oursDownsample.P99), "SQLite GROUP BY ts / width", Millis(peerDownsample.P99), lowerIsBetter: true);
            }

            report.Note($"Time-series suite: shapes of {shapeReadings:N0} readings each ({string.Join("; ", Shapes.Select(s => s.Title + ": " + s.Description))}). " +
                $"Ingest: {seriesCount} series x {perSeries:N0} readings at 1 s, ours through EdgeDatabase.AppendAsync (one multi-series batch = one WAL record per tick), default chunk bounds (8192 readings / 4000 bytes / 2 h). " +
                $"Queries: one series of {weekReadings:N0} readings (a week at 1 s), {rangeIterations} timed runs each after warm-up; SQLite's GROUP BY computes min, max, avg, count over the same rows. Files under CE_BENCH_DIR (default the temp directory).");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static EdgeDatabaseOptions QueryOptions => new()
    {
        Durability = WalDurability.None,
        CheckpointInterval = TimeSpan.FromSeconds(1),
    };

    private static int Scaled(int count, double scale) => Math.Max(100, (int)(count * scale));

    private static double Millis(TimeSpan value) => value.TotalMilliseconds;

    /// <summary>The store's own chunking (default bounds): closed chunks, then the head encoded as one more.</summary>
    private static double ChunkBytesPerReading(TimeSeriesReading[] readings)
    {
        using var store = new TimeSeriesStore(new TimeSeriesOptions());
        store.Append("s", readings, 1);
        var closed = store.TakeChanges().Chunks;
        long bytes = closed.Sum(chunk => (long)chunk.Bytes.Length);
        long closedThrough = closed.Count == 0 ? long.MinValue : closed.Max(chunk => chunk.Header.LastTimestamp);
        var all = new List<TimeSeriesReading>(readings.Length);
        store.ReadRange("s", long.MinValue, long.MaxValue, all);
        List<TimeSeriesReading> head = all.Where(r => r.Timestamp > closedThrough).ToList();
        if (head.Count > 0)
        {
            byte[] buffer = new byte[ChunkCodec.MaxEncodedBytes(head.Count)];
            bytes += ChunkCodec.Encode(1, head.Select(r => r.Timestamp).ToArray(), head.Select(r => r.Value).ToArray(), buffer);
        }

        return bytes / (double)readings.Length;
    }

    private static SqliteConnection OpenSqlite(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using SqliteCommand pragmas = connection.CreateCommand();
        pragmas.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE IF NOT EXISTS readings(series INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, PRIMARY KEY(series, ts)) WITHOUT ROWID;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Inserts the readings as rows (1000 per transaction) and returns the file size per reading after a truncating checkpoint.</summary>
    private static double SqliteBytesPerReading(string path, (string Series, TimeSeriesReading[] Readings)[] data)
    {
        long count = 0;
        using (SqliteConnection connection = OpenSqlite(path))
        {
            using SqliteCommand insert = connection.CreateCommand();
            insert.CommandText = "INSERT OR REPLACE INTO readings(series, ts, value) VALUES($s, $t, $v);";
            SqliteParameter series = insert.Parameters.Add("$s", SqliteType.Integer);
            SqliteParameter ts = insert.Parameters.Add("$t", SqliteType.Integer);
            SqliteParameter value = insert.Parameters.Add("$v", SqliteType.Real);
            insert.Prepare();
            SqliteTransaction? transaction = null;
            for (int s = 0; s < data.Length; s++)
            {
                foreach (TimeSeriesReading reading in data[s].Readings)
                {
                    if (count++ % SqliteTransactionRows == 0)
                    {
                        transaction?.Commit();
                        transaction?.Dispose();
                        transaction = connection.BeginTransaction();
                        insert.Transaction = transaction;
                    }

                    series.Value = s + 1;
                    ts.Value = reading.Timestamp;
                    value.Value = reading.Value;
                    insert.ExecuteNonQuery();
                }
            }

            transaction?.Commit();
            transaction?.Dispose();
            using SqliteCommand checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            checkpoint.ExecuteNonQuery();
        }

        return FileBytes(path) / (double)count;
    }

    private static async Task LoadOursAsync(string directory, TimeSeriesReading[] readings)
    {
        using EdgeDatabase database = EdgeDatabase.Open(directory, QueryOptions);
        for (int start = 0; start < readings.Length; start += 10_000)
        {
            await database.AppendAsync("week", readings.AsSpan(start, Math.Min(10_000, readings.Length - start)));
        }

        await database.CheckpointAsync();
    }

    private static async Task<IngestResult> IngestOursAsync(string directory, int seriesCount, int perSeries)
    {
        var generators = Enumerable.Range(0, seriesCount).Select(i => new SensorWalk(new Random(1000 + i))).ToArray();
        string[] names = Enumerable.Range(0, seriesCount).Select(i => $"site/sensor-{i:D3}/temp").ToArray();
        var batch = new (string Series, ReadOnlyMemory<TimeSeriesReading> Readings)[seriesCount];
        var tick = new TimeSeriesReading[seriesCount];
        long writeBefore = ProcessWriteBytes();
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long startTimestamp = Stopwatch.GetTimestamp();
        using (EdgeDatabase database = EdgeDatabase.Open(directory, QueryOptions))
        {
            for (int i = 0; i < perSeries; i++)
            {
                long timestamp = Start + (i * 1000L);
                for (int s = 0; s < seriesCount; s++)
                {
                    tick[s] = new TimeSeriesReading(timestamp, generators[s].Next());
                    batch[s] = (names[s], tick.AsMemory(s, 1));
                }

                await database.AppendAsync(batch);
            }

            await database.CheckpointAsync();
            double seconds = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
            double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            await database.FlushAsync();
            long deviceBytes = ProcessWriteBytes() is long after and >= 0 && writeBefore >= 0 ? after - writeBefore : -1;
            long stateBytes = FileBytes(Path.Combine(directory, "state.db")) + FileBytes(Path.Combine(directory, "state.db-wal"));
            long walBytes = Directory.GetFiles(Path.Combine(directory, EdgeDatabase.WalDirectoryName)).Sum(FileBytes);
            long closedReadings = 0;
            using (var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "state.db")};Mode=ReadOnly;Pooling=False"))
            {
                connection.Open();
                using SqliteCommand command = connection.CreateCommand();
                command.CommandText = "SELECT coalesce(sum(count), 0) FROM ce_ts_chunks;";
                closedReadings = (long)command.ExecuteScalar()!;
            }

            return new IngestResult(seconds, cpuSeconds, stateBytes, walBytes, deviceBytes, closedReadings);
        }
    }

    private static IngestResult IngestSqlite(string path, int seriesCount, int perSeries)
    {
        var generators = Enumerable.Range(0, seriesCount).Select(i => new SensorWalk(new Random(1000 + i))).ToArray();
        long writeBefore = ProcessWriteBytes();
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long startTimestamp = Stopwatch.GetTimestamp();
        using (SqliteConnection connection = OpenSqlite(path))
        {
            using SqliteCommand insert = connection.CreateCommand();
            insert.CommandText = "INSERT OR REPLACE INTO readings(series, ts, value) VALUES($s, $t, $v);";
            SqliteParameter series = insert.Parameters.Add("$s", SqliteType.Integer);
            SqliteParameter ts = insert.Parameters.Add("$t", SqliteType.Integer);
            SqliteParameter value = insert.Parameters.Add("$v", SqliteType.Real);
            insert.Prepare();
            SqliteTransaction? transaction = null;
            long count = 0;
            for (int i = 0; i < perSeries; i++)
            {
                for (int s = 0; s < seriesCount; s++)
                {
                    if (count++ % SqliteTransactionRows == 0)
                    {
                        transaction?.Commit();
                        transaction?.Dispose();
                        transaction = connection.BeginTransaction();
                        insert.Transaction = transaction;
                    }

                    series.Value = s + 1;
                    ts.Value = Start + (i * 1000L);
                    value.Value = generators[s].Next();
                    insert.ExecuteNonQuery();
                }
            }

            transaction?.Commit();
            transaction?.Dispose();
            using SqliteCommand checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            checkpoint.ExecuteNonQuery();
        }

        double seconds = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        long deviceBytes = ProcessWriteBytes() is long after and >= 0 && writeBefore >= 0 ? after - writeBefore : -1;
        return new IngestResult(seconds, cpuSeconds, FileBytes(path), 0, deviceBytes, (long)seriesCount * perSeries);
    }

    private static void SqliteRange(SqliteConnection connection, long from, long to, int expected)
    {
        using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT ts, value FROM readings WHERE series = 1 AND ts >= $from AND ts < $to ORDER BY ts;";
        select.Parameters.AddWithValue("$from", from);
        select.Parameters.AddWithValue("$to", to);
        using SqliteDataReader rows = select.ExecuteReader();
        int count = 0;
        double sink = 0;
        while (rows.Read())
        {
            sink += rows.GetInt64(0) + rows.GetDouble(1);
            count++;
        }

        if (count != expected)
        {
            throw new InvalidOperationException($"SQLite returned {count} readings, ours {expected}");
        }
    }

    private static void SqliteDownsample(SqliteConnection connection, long from, long to, long widthMs, int expected)
    {
        using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT ts / $w AS bucket, min(value), max(value), avg(value), count(*) FROM readings WHERE series = 1 AND ts >= $from AND ts < $to GROUP BY bucket ORDER BY bucket;";
        select.Parameters.AddWithValue("$w", widthMs);
        select.Parameters.AddWithValue("$from", from);
        select.Parameters.AddWithValue("$to", to);
        using SqliteDataReader rows = select.ExecuteReader();
        int count = 0;
        while (rows.Read())
        {
            count++;
        }

        if (count != expected)
        {
            throw new InvalidOperationException($"SQLite returned {count} buckets, ours {expected}");
        }
    }

    private static long FileBytes(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    /// <summary>write_bytes of /proc/self/io, or -1 where it is not readable.</summary>
    private static long ProcessWriteBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/io"))
            {
                if (line.StartsWith("write_bytes:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan("write_bytes:".Length).Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            return -1;
        }
        catch (UnauthorizedAccessException)
        {
            return -1;
        }

        return -1;
    }

    private readonly record struct IngestResult(double Seconds, double CpuSeconds, long DiskBytes, long WalBytes, long DeviceWriteBytes, long ClosedReadings);

    /// <summary>A temperature sensor: a random walk in 0.01 °C steps.</summary>
    private sealed class SensorWalk(Random random)
    {
        private long _hundredths = 2100 + random.Next(-300, 300);

        public double Next()
        {
            _hundredths += random.Next(-2, 3) * (random.Next(4) == 0 ? 1 : 0) + random.Next(-1, 2);
            return _hundredths / 100.0;
        }
    }

    private sealed record Shape(string Key, string Title, string Description, Func<Random, int, TimeSeriesReading[]> Generate);

    private static readonly Shape[] Shapes =
    [
        new("temperature", "regular 1 s temperature with noise", "1 s interval, random walk of 0.01 °C steps around 21 °C",
            (random, count) =>
            {
                var walk = new SensorWalk(random);
                return Enumerable.Range(0, count).Select(i => new TimeSeriesReading(Start + (i * 1000L), walk.Next())).ToArray();
            }),
        new("irregular", "irregular temperature", "intervals of 1-10 s with ±50 ms jitter and a 1 h gap every 20k readings, 0.1 °C resolution",
            (random, count) =>
            {
                var result = new TimeSeriesReading[count];
                long timestamp = Start;
                long tenths = 215;
                for (int i = 0; i < count; i++)
                {
                    timestamp += (random.Next(1, 11) * 1000L) + random.Next(-50, 51) + (i % 20_000 == 19_999 ? 3_600_000 : 0);
                    tenths += random.Next(-1, 2);
                    result[i] = new TimeSeriesReading(timestamp, tenths / 10.0);
                }

                return result;
            }),
        new("vibration", "noisy vibration RMS", "1 s interval, 0.5 ± 0.2 g of uniform noise at 0.0001 g resolution",
            (random, count) => Enumerable.Range(0, count).Select(i => new TimeSeriesReading(Start + (i * 1000L), Math.Round(0.3 + (random.NextDouble() * 0.4), 4))).ToArray()),
        new("counter", "counter", "10 s interval, monotonic energy counter adding 0-50 Wh per reading",
            (random, count) =>
            {
                long total = 1_000_000;
                return Enumerable.Range(0, count).Select(i => new TimeSeriesReading(Start + (i * 10_000L), total += random.Next(0, 51))).ToArray();
            }),
        new("raw-noise", "full-precision noise (worst case)", "1 s interval, doubles with all 52 mantissa bits random",
            (random, count) => Enumerable.Range(0, count).Select(i => new TimeSeriesReading(Start + (i * 1000L), 20 + random.NextDouble())).ToArray()),
    ];
}
