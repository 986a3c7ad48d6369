using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core.Tests.TimeSeries;

public sealed class EdgeDatabaseTimeSeriesTests : IDisposable
{
    private const long Start = 1_700_000_000_000;
    private readonly WalTestDirectory _directory = new();
    // Diagnostics for the randomized crash test: who wrote each reading, what happened lately.
    private readonly Dictionary<(string, long), string> _writers = [];
    private readonly List<string> _events = [];

    public void Dispose() => _directory.Dispose();

    // Nothing is checkpointed unless a test asks; small chunks so a few readings close several.
    private EdgeDatabase Open(int chunkReadingsMax = 16, long walSegmentBytes = 16L << 20) => EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
    {
        Durability = WalDurability.None,
        CheckpointInterval = TimeSpan.FromHours(1),
        CheckpointRecordCount = int.MaxValue,
        WalSegmentBytes = walSegmentBytes,
        TimeSeries = new TimeSeriesOptions { ChunkReadingsMax = chunkReadingsMax, ChunkSpan = TimeSpan.FromHours(1) },
    });

    private static TimeSeriesReading[] Regular(long from, int count, double offset = 0) =>
        Enumerable.Range(0, count).Select(i => new TimeSeriesReading(from + (i * 1000L), Math.Round(20 + offset + (i % 10 * 0.1), 1))).ToArray();

    [Fact]
    public async Task AppendReadDownsample_SameBeforeCheckpointAfterCheckpointAndAfterReopen()
    {
        var snapshots = new List<string>();
        using (EdgeDatabase database = Open())
        {
            TimeSeriesAppendResult result = await database.AppendAsync("greenhouse/temp", Regular(Start, 100));
            Assert.Equal(new TimeSeriesAppendResult(100, 0, 0), result);
            await database.AppendAsync([("greenhouse/humidity", Regular(Start, 40, 30)), ("greenhouse/temp", Regular(Start + 100_000, 10))]);
            await database.AppendAsync("greenhouse/temp", Start + 5500, -3.25); // late, between two readings
            snapshots.Add(Snapshot(database));
            await database.CheckpointAsync();
            snapshots.Add(Snapshot(database));
        }

        using (EdgeDatabase database = Open())
        {
            snapshots.Add(Snapshot(database));
            Assert.Equal(111, database.ReadRange("greenhouse/temp", Start, Start + 200_000).Count);
            Assert.Equal(-3.25, database.ReadRange("greenhouse/temp", Start + 5000, Start + 6000)[1].Value);
        }

        Assert.Equal(snapshots[0], snapshots[1]);
        Assert.Equal(snapshots[0], snapshots[2]);
    }

    [Fact]
    public async Task OpenChunks_RebuiltFromWal_AfterCloseWithoutCheckpoint()
    {
        using (EdgeDatabase database = Open())
        {
            await database.AppendAsync("s", Regular(Start, 40)); // two closed chunks of 16, a head of 8
            await database.CheckpointAsync(); // closed chunks in SQLite, the head only in the WAL
            await database.AppendAsync("s", Regular(Start + 40_000, 5)); // head grows, not checkpointed
            database.CloseWithoutCheckpoint();
        }

        using (EdgeDatabase database = Open())
        {
            List<TimeSeriesReading> readings = database.ReadRange("s", Start, Start + 1_000_000);
            Assert.Equal(Regular(Start, 45), readings);
            Assert.True(database.TryGetSeries("s", out TimeSeriesInfo info));
            Assert.Equal(2, info.ClosedChunks);
            Assert.Equal(45, info.Count);
        }

        AssertChunkRows(expectedRows: 2);
    }

    [Fact]
    public async Task LateReadings_LandInClosedChunks_AndSurviveCheckpointAndReopen()
    {
        using (EdgeDatabase database = Open())
        {
            await database.AppendAsync("s", Regular(Start, 64)); // 3 closed chunks of 16 + a full head
            await database.CheckpointAsync();
            // Late readings inside the first closed chunk (odd half-seconds) and a duplicate timestamp.
            TimeSeriesAppendResult late = await database.AppendAsync("s", [new(Start + 500, 1.5), new(Start + 2500, 2.5), new(Start + 3000, 99)]);
            Assert.Equal(new TimeSeriesAppendResult(2, 1, 0), late);
            await database.CheckpointAsync();
        }

        using (EdgeDatabase database = Open())
        {
            List<TimeSeriesReading> first = database.ReadRange("s", Start, Start + 4000);
            Assert.Equal([new(Start, 20), new(Start + 500, 1.5), new(Start + 1000, 20.1), new(Start + 2000, 20.2), new(Start + 2500, 2.5), new(Start + 3000, 99)], first);
            Assert.Equal(66, database.ReadRange("s", Start, Start + 1_000_000).Count);
        }
    }

    [Fact]
    public async Task Retention_DropsWholeChunksCountsThemAndPersists()
    {
        using (EdgeDatabase database = Open())
        {
            await database.AppendAsync("s", Regular(Start, 64)); // chunks [0..15], [16..31], [32..47], head [48..63] (seconds)
            await database.CheckpointAsync();
            TimeSeriesRetentionResult result = await database.DropOlderThanAsync("s", Start + 40_000);
            // Chunks ending at 15 s and 31 s expire; the one holding 32..47 s straddles the cutoff and stays.
            Assert.Equal(new TimeSeriesRetentionResult(2, 32, 32), result);
            TimeSeriesAppendResult rejected = await database.AppendAsync("s", [new(Start + 39_999, 1), new(Start + 40_000, 2)]);
            Assert.Equal(new TimeSeriesAppendResult(0, 1, 1), rejected); // 40 s existed: replaced
            Assert.Equal(new TimeSeriesRetentionResult(0, 0, 0), await database.DropOlderThanAsync("missing", Start));
            database.CloseWithoutCheckpoint();
        }

        using (EdgeDatabase database = Open())
        {
            List<TimeSeriesReading> readings = database.ReadRange("s", Start, Start + 1_000_000);
            Assert.Equal(32, readings.Count);
            Assert.Equal(Start + 32_000, readings[0].Timestamp);
            Assert.Equal(2, readings.Single(r => r.Timestamp == Start + 40_000).Value);
            TimeSeriesAppendResult stillRejected = await database.AppendAsync("s", Start + 1000, 5);
            Assert.Equal(1, stillRejected.Expired);
            await database.CheckpointAsync();
        }

        AssertChunkRows(expectedRows: 1); // 32..47 s; the head (48..63 s) lives in the WAL, not in a row
    }

    [Fact]
    public async Task DeleteSeries_RemovesEverything_AndTheNameStartsAfresh()
    {
        using (EdgeDatabase database = Open())
        {
            await database.AppendAsync("s", Regular(Start, 50));
            await database.CheckpointAsync();
            Assert.Equal(50, await database.DeleteSeriesAsync("s"));
            Assert.Equal(-1, await database.DeleteSeriesAsync("s"));
            Assert.Empty(database.ListSeries());
            await database.AppendAsync("s", Regular(Start + 1_000_000, 3));
            database.CloseWithoutCheckpoint();
        }

        using (EdgeDatabase database = Open())
        {
            Assert.Equal(Regular(Start + 1_000_000, 3), database.ReadRange("s", 0, long.MaxValue / 4));
            await database.CheckpointAsync();
        }

        AssertChunkRows(expectedRows: 0);
    }

    [Fact]
    public async Task RandomOpsWithCrashes_ReadBackEveryAcknowledgedReading()
    {
        // Kill-like closes (no final checkpoint) at random points, random checkpoints, small WAL
        // segments so the checkpointer frees segments and the heads' retention hold matters.
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        var model = new Dictionary<string, SortedDictionary<long, double>>();
        var floors = new Dictionary<string, long>();
        int cycles = SeriesGenerator.Iterations("CE_TS_CRASH_CYCLES", 30);
        // The chunk bounds stay the same across reopens: replay after a crash under other bounds may
        // lay out chunks differently, and retention (whole chunks) may then keep other readings
        // older than its cutoff (documented).
        int chunkReadingsMax = random.Next(4, 40);
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            using EdgeDatabase database = Open(chunkReadingsMax, walSegmentBytes: 64 << 10);
            string context = $"seed {seed} cycle {cycle}";
            AssertModel(database, model, context + " after reopen");
            int ops = random.Next(1, 25);
            for (int op = 0; op < ops; op++)
            {
                string series = "sensor-" + random.Next(3);
                if (!model.TryGetValue(series, out SortedDictionary<long, double>? readings))
                {
                    readings = [];
                    model[series] = readings;
                }

                int kind = random.Next(30);
                if (kind == 0)
                {
                    long cutoff = Start + random.Next(0, 3_000_000);
                    bool exists = database.TryGetSeries(series, out _); // retention of an absent series is a no-op, no floor
                    TimeSeriesRetentionResult result = await database.DropOlderThanAsync(series, cutoff);
                    List<TimeSeriesReading> after = database.ReadRange(series, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax);
                    Assert.True(readings.Count - after.Count == result.ReadingsDropped, $"{context}: retention dropped {result.ReadingsDropped}, observed {readings.Count - after.Count}");
                    readings.Clear();
                    foreach (TimeSeriesReading reading in after)
                    {
                        readings[reading.Timestamp] = reading.Value;
                    }

                    if (exists)
                    {
                        floors[series] = Math.Max(floors.GetValueOrDefault(series, long.MinValue), cutoff);
                    }
                }
                else if (kind == 1)
                {
                    await database.DeleteSeriesAsync(series);
                    model.Remove(series);
                    floors.Remove(series);
                }
                else
                {
                    TimeSeriesReading[] batch = TimeSeriesStoreTests.RandomBatch(random, random.Next(1, 80));
                    await database.AppendAsync(series, batch);
                    foreach (TimeSeriesReading reading in batch)
                    {
                        if (reading.Timestamp >= floors.GetValueOrDefault(series, long.MinValue))
                        {
                            readings[reading.Timestamp] = reading.Value;
                            _writers[(series, reading.Timestamp)] = $"c{cycle}o{op}lsn{database.GetStats().LastLsn}";
                        }
                    }
                }

                if (random.Next(8) == 0)
                {
                    await database.CheckpointAsync();
                    _events.Add($"c{cycle}o{op} checkpoint {database.GetStats().CheckpointLsn}");
                }
                else
                {
                    _events.Add($"c{cycle}o{op} kind {kind} {series} lsn {database.GetStats().LastLsn}");
                }

                AssertModel(database, model, $"{context} op {op} kind {kind}");
            }

            AssertModel(database, model, context + " before close");
            _events.Add($"c{cycle} close stats first {database.GetStats().FirstLsn} cp {database.GetStats().CheckpointLsn} last {database.GetStats().LastLsn}");
            if (random.Next(3) == 0)
            {
                database.Dispose(); // clean close: final checkpoint
                _events.Add("clean");
            }
            else
            {
                database.CloseWithoutCheckpoint();
            }
        }

        int closedChunks;
        using (EdgeDatabase database = Open(chunkReadingsMax, walSegmentBytes: 64 << 10))
        {
            AssertModel(database, model, $"seed {seed} final reopen");
            await database.CheckpointAsync();
            closedChunks = database.ListSeries().Sum(info => info.ClosedChunks);
        }

        AssertChunkRows(closedChunks); // every row is a valid chunk and none is orphaned
    }

    [Fact]
    public async Task AbortedCheckpoint_RebuildsTheCheckpointReplica_WithTheSameChunkIds()
    {
        // After an aborted checkpoint the checkpointer's replica is rebuilt from SQLite and the WAL;
        // it must assign the same chunk ids as the live replica, which reads released chunks back by id.
        var expected = new SortedDictionary<long, double>();
        void Track(IEnumerable<TimeSeriesReading> readings)
        {
            foreach (TimeSeriesReading reading in readings)
            {
                expected[reading.Timestamp] = reading.Value;
            }
        }

        using (EdgeDatabase database = Open())
        {
            TimeSeriesReading[] first = Regular(Start, 100);
            await database.AppendAsync("s", first);
            Track(first);
            await database.CheckpointAsync();
            TimeSeriesReading[] late = Enumerable.Range(0, 40).Select(i => new TimeSeriesReading(Start + 250 + (i * 2000L), -i)).ToArray();
            await database.AppendAsync("s", late); // merges into closed chunks, splits some
            await database.DeleteSeriesAsync("gone");
            await database.AppendAsync("gone", Regular(Start, 40));
            Track(late);
            database.TimeSeriesModule.AbortCheckpoint(); // as if the last checkpoint transaction had failed
            await database.CheckpointAsync();
            TimeSeriesReading[] more = Regular(Start + 100_000, 60);
            await database.AppendAsync("s", more);
            Track(more);
            await database.CheckpointAsync();
            await database.AppendAsync("s", [new TimeSeriesReading(Start + 10_500, 7)]); // live loads a released chunk by id
            expected[Start + 10_500] = 7;
            AssertModel(database, new() { ["s"] = expected }, "after rebuild");
            database.CloseWithoutCheckpoint();
        }

        int closedChunks;
        using (EdgeDatabase database = Open())
        {
            AssertModel(database, new() { ["s"] = expected }, "after reopen");
            Assert.Equal(40, database.ReadRange("gone", Start, Start + 1_000_000).Count);
            await database.CheckpointAsync();
            closedChunks = database.ListSeries().Sum(info => info.ClosedChunks);
        }

        AssertChunkRows(expectedRows: closedChunks); // the index and the rows agree, no orphan rows
    }

    [Fact]
    public async Task Append_BadInput_ThrowsTypedErrorsAndWritesNothing()
    {
        using EdgeDatabase database = Open();
        long lastLsn = database.GetStats().LastLsn;
        Assert.Equal(EdgeErrorCode.TimeSeriesNameInvalid, (await Assert.ThrowsAsync<EdgeException>(() => database.AppendAsync("", 1, 1).AsTask())).Code);
        Assert.Equal(EdgeErrorCode.TimeSeriesNameInvalid, (await Assert.ThrowsAsync<EdgeException>(() => database.AppendAsync("a\nb", 1, 1).AsTask())).Code);
        Assert.Equal(EdgeErrorCode.TimeSeriesTimestampOutOfRange, (await Assert.ThrowsAsync<EdgeException>(() => database.AppendAsync("s", long.MaxValue, 1).AsTask())).Code);
        Assert.Equal(EdgeErrorCode.TimeSeriesBatchTooLarge, (await Assert.ThrowsAsync<EdgeException>(() => database.AppendAsync("s", new TimeSeriesReading[TimeSeriesLimits.BatchReadingsMax + 1]).AsTask())).Code);
        Assert.Equal(EdgeErrorCode.TimeSeriesQueryInvalid, Assert.Throws<EdgeException>(() => database.ReadRange("s", 5, 5)).Code);
        Assert.Equal(lastLsn, database.GetStats().LastLsn);
    }

    private void AssertChunkRows(int expectedRows)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, "state.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT chunk FROM ce_ts_chunks;";
        using SqliteDataReader rows = command.ExecuteReader();
        int count = 0;
        while (rows.Read())
        {
            ChunkHeader.Read((byte[])rows.GetValue(0)); // every stored row is a valid chunk
            count++;
        }

        Assert.Equal(expectedRows, count);
    }

    private void AssertModel(EdgeDatabase database, Dictionary<string, SortedDictionary<long, double>> model, string context)
    {
        foreach ((string series, SortedDictionary<long, double> expected) in model)
        {
            List<TimeSeriesReading> actual = database.ReadRange(series, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax);
            if (expected.Count != actual.Count)
            {
                var have = actual.Select(r => r.Timestamp).ToHashSet();
                var missing = expected.Keys.Where(k => !have.Contains(k)).Select(k => $"{k}:{_writers.GetValueOrDefault((series, k))}");
                Assert.Fail($"{context} series {series}: {actual.Count} readings, expected {expected.Count}; missing {string.Join(",", missing)}; events {string.Join(" | ", _events.TakeLast(60))}");
            }
            int index = 0;
            foreach ((long timestamp, double value) in expected)
            {
                Assert.True(new TimeSeriesReading(timestamp, value).BitEquals(actual[index]), $"{context} series {series} index {index}: {actual[index]}, expected ({timestamp}, {value})");
                index++;
            }
        }
    }

    private static string Snapshot(EdgeDatabase database)
    {
        var lines = new List<string>();
        foreach (TimeSeriesInfo info in database.ListSeries())
        {
            lines.Add(info.Name + " " + info.Count + " " + info.FirstTimestamp + " " + info.LastTimestamp);
            lines.AddRange(database.ReadRange(info.Name, Start - 1_000_000, Start + 1_000_000).Select(r => r.ToString()));
            lines.AddRange(database.Downsample(info.Name, Start, Start + 200_000, TimeSpan.FromSeconds(30)).Select(b => b.ToString()));
        }

        return string.Join("\n", lines);
    }
}
