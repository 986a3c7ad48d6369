using CortexEdge.Core.TimeSeries;

namespace CortexEdge.Core.Tests.TimeSeries;

public sealed class TimeSeriesStoreTests
{
    private const long Day = 86_400_000;

    [Fact]
    public void Append_AnyOrderWithDuplicates_ReadsBackSortedCompleteLastWriteWins()
    {
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        int rounds = SeriesGenerator.Iterations("CE_TS_STORE_ROUNDS", 60);
        for (int round = 0; round < rounds; round++)
        {
            // Small byte targets too, so heads also close on their encoded size.
            var options = new TimeSeriesOptions { ChunkReadingsMax = random.Next(1, 80), ChunkSpan = TimeSpan.FromMilliseconds(random.Next(1, 200_000)), ChunkBytesTarget = random.Next(2) == 0 ? 0 : random.Next(ChunkHeader.Size + 64, 600) };
            using var store = new TimeSeriesStore(options);
            using var replica = new TimeSeriesStore(options, recordChanges: false); // the live replica's mode: sealed chunks stay decoded
            var model = new SortedDictionary<long, double>();
            long lsn = 0;
            int batches = random.Next(1, 40);
            for (int b = 0; b < batches; b++)
            {
                TimeSeriesReading[] batch = RandomBatch(random, random.Next(1, 60));
                TimeSeriesAppendResult result = store.Append("s", batch, ++lsn);
                Assert.Equal(result, replica.Append("s", batch, lsn));
                int added = 0;
                foreach (TimeSeriesReading reading in batch)
                {
                    added += model.ContainsKey(reading.Timestamp) ? 0 : 1;
                    model[reading.Timestamp] = reading.Value;
                }

                Assert.True(added == result.Added, $"seed {seed} round {round} batch {b}: added {result.Added}, expected {added}");
                Assert.Equal(batch.Length, result.Added + result.Replaced);
                if (random.Next(4) == 0)
                {
                    store.TakeChanges();
                }

                AssertSameAsModel(store, "s", model, $"seed {seed} round {round} batch {b}");
                AssertSameAsModel(replica, "s", model, $"seed {seed} round {round} batch {b} (replica)");
            }
        }
    }

    [Fact]
    public void Downsample_RandomSeries_EqualsNaiveComputation()
    {
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        for (int round = 0; round < 40; round++)
        {
            var options = new TimeSeriesOptions { ChunkReadingsMax = random.Next(2, 300), ChunkSpan = TimeSpan.FromMilliseconds(random.Next(1000, 3_600_000)), ChunkBytesTarget = random.Next(2) == 0 ? 0 : random.Next(ChunkHeader.Size + 64, 1200) };
            using var store = new TimeSeriesStore(options);
            var model = new SortedDictionary<long, double>();
            for (int b = 0; b < 10; b++)
            {
                TimeSeriesReading[] batch = RandomBatch(random, random.Next(1, 300));
                store.Append("s", batch, b + 1);
                foreach (TimeSeriesReading reading in batch)
                {
                    model[reading.Timestamp] = reading.Value;
                }

                if (random.Next(2) == 0)
                {
                    store.TakeChanges();
                }
            }

            long from = model.Keys.First() + random.Next(-5000, 5000);
            long to = model.Keys.Last() + random.Next(-5000, 5000);
            if (to <= from)
            {
                to = from + 1;
            }

            long width = random.Next(3) switch { 0 => 1000, 1 => 60_000, _ => random.Next(1, 10_000_000) };
            var buckets = new List<TimeSeriesBucket>();
            store.Downsample("s", from, to, width, buckets);
            List<TimeSeriesBucket> expected = NaiveBuckets(model, from, to, width);
            // Sums holding values beyond 1e200 lose arbitrary amounts to cancellation depending on the
            // order of addition (per chunk, then across chunks, versus per reading): sums compared only without them.
            HashSet<long> exactSumBuckets = model.Where(r => r.Key >= from && r.Key < to)
                .GroupBy(r => (long)Math.Floor(r.Key / (double)width) * width)
                .Where(g => g.All(r => !(Math.Abs(r.Value) > 1e200)))
                .Select(g => g.Key).ToHashSet();
            string context = $"seed {seed} round {round} width {width}";
            Assert.True(expected.Count == buckets.Count, $"{context}: {buckets.Count} buckets, expected {expected.Count}");
            for (int i = 0; i < expected.Count; i++)
            {
                AssertBucket(expected[i], buckets[i], $"{context} bucket {i}", exactSumBuckets.Contains(expected[i].Start));
            }
        }
    }

    [Fact]
    public void Downsample_ChunkInsideOneBucket_UsesHeaderWithoutDecoding()
    {
        using var store = new TimeSeriesStore(new TimeSeriesOptions { ChunkReadingsMax = 60 });
        var readings = Enumerable.Range(0, 3600).Select(i => new TimeSeriesReading(i * 1000L, 20 + (i % 7))).ToArray();
        store.Append("s", readings, 1);
        var buckets = new List<TimeSeriesBucket>();
        store.Downsample("s", 0, 3_600_000, 600_000, buckets);
        Assert.Equal(6, buckets.Count);
        Assert.All(buckets, bucket => Assert.Equal(600, bucket.Count));
        Assert.Equal(0, store.ChunksDecoded);
        Assert.Equal(59, store.ChunksSummarized); // 60 chunks, the last is the open head
    }

    [Fact]
    public void DropBefore_DropsOnlyWholeExpiredChunksAndCountsThem()
    {
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        for (int round = 0; round < 30; round++)
        {
            using var store = new TimeSeriesStore(new TimeSeriesOptions { ChunkReadingsMax = random.Next(1, 50), ChunkSpan = TimeSpan.FromMinutes(random.Next(1, 30)) });
            var model = new SortedDictionary<long, double>();
            for (int b = 0; b < 8; b++)
            {
                TimeSeriesReading[] batch = RandomBatch(random, random.Next(1, 200));
                store.Append("s", batch, b + 1);
                foreach (TimeSeriesReading reading in batch)
                {
                    model[reading.Timestamp] = reading.Value;
                }
            }

            long cutoff = model.Keys.ElementAt(random.Next(model.Count)) + random.Next(-2, 3);
            var before = new List<TimeSeriesReading>();
            store.ReadRange("s", TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax, before);
            TimeSeriesRetentionResult result = store.DropBefore("s", cutoff);

            var after = new List<TimeSeriesReading>();
            store.ReadRange("s", TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax, after);
            string context = $"seed {seed} round {round} cutoff {cutoff}";
            Assert.True(before.Count - after.Count == result.ReadingsDropped, $"{context}: dropped {result.ReadingsDropped}, observed {before.Count - after.Count}");
            Assert.Equal(after.Count, result.ReadingsKept);
            // Nothing at or after the cutoff is lost; what was dropped is a prefix older than the cutoff.
            Assert.Equal(before.Count(r => r.Timestamp >= cutoff), after.Count(r => r.Timestamp >= cutoff));
            Assert.Equal(before.Skip(before.Count - after.Count), after);
            Assert.True(result.ReadingsDropped == 0 || result.ChunksDropped > 0, context);

            // Readings older than the cutoff are now rejected and counted.
            TimeSeriesAppendResult late = store.Append("s", [new TimeSeriesReading(cutoff - 1, 1.0)], 100);
            Assert.Equal(new TimeSeriesAppendResult(0, 0, 1), late);
        }
    }

    [Fact]
    public void Append_GapOfDaysAndClockJumpBack_KeepsChunksDisjointAndOrdered()
    {
        using var store = new TimeSeriesStore(new TimeSeriesOptions());
        long start = 1_700_000_000_000;
        var expected = new SortedDictionary<long, double>();
        void Add(long timestamp, double value, long lsn)
        {
            store.Append("s", [new TimeSeriesReading(timestamp, value)], lsn);
            expected[timestamp] = value;
        }

        for (int i = 0; i < 100; i++)
        {
            Add(start + (i * 1000), i, i + 1);
        }

        Add(start + (3 * Day), 1000, 200); // gap of days: the first chunk closes
        Add(start + 50_500, 2000, 201); // late reading, lands inside the closed chunk
        Add(start - Day, 3000, 202); // clock jumped back a day: a chunk of its own before everything
        Add(start + Day, 4000, 203); // falls between two closed chunks
        Add(start + 50_000, -1, 204); // duplicate timestamp in a closed chunk: last write wins
        expected[start + 50_000] = -1;

        Assert.True(store.TryGetInfo("s", out TimeSeriesInfo info));
        Assert.Equal(expected.Count, info.Count);
        Assert.Equal(start - Day, info.FirstTimestamp);
        Assert.Equal(start + (3 * Day), info.LastTimestamp);
        AssertSameAsModel(store, "s", expected, "gap and jump");
        store.TakeChanges();
        AssertSameAsModel(store, "s", expected, "gap and jump after encoding");
    }

    [Fact]
    public void Append_CloseRules_ReadingsBoundAndSpanBound()
    {
        using var store = new TimeSeriesStore(new TimeSeriesOptions { ChunkReadingsMax = 10, ChunkSpan = TimeSpan.FromMinutes(1) });
        // Readings bound: 25 readings 1 s apart close two chunks of 10; 5 stay in the head.
        store.Append("count", Enumerable.Range(0, 25).Select(i => new TimeSeriesReading(i * 1000L, i)).ToArray(), 1);
        Assert.Equal(new[] { 10, 10 }, store.TakeChanges().Chunks.Select(c => c.Header.Count));
        // Span bound: readings 20 s apart; a chunk never spans a minute or more, so 3 per chunk (0, 20, 40 s).
        store.Append("span", Enumerable.Range(0, 10).Select(i => new TimeSeriesReading(i * 20_000L, i)).ToArray(), 2);
        TimeSeriesChanges changes = store.TakeChanges();
        Assert.Equal(new[] { 3, 3, 3 }, changes.Chunks.Select(c => c.Header.Count));
        Assert.All(changes.Chunks, c => Assert.True(c.Header.LastTimestamp - c.Header.FirstTimestamp < 60_000));
        // A duplicate timestamp of a full head replaces in place and closes nothing.
        store.Append("count", [new TimeSeriesReading(24_000, -1)], 3);
        Assert.Empty(store.TakeChanges().Chunks);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Append_ByteTarget_ClosesChunksThatFillAPage_WellCompressedOrNoisy(bool noisy)
    {
        // Default options: 8192 readings or 4000 bytes. A steady decimal series (about half a byte
        // per reading) closes on bytes past the old 4096-reading bound; noise (8-9 bytes per reading) long before it.
        using var store = new TimeSeriesStore(new TimeSeriesOptions());
        var random = new Random(11);
        var readings = new TimeSeriesReading[40_000];
        for (int i = 0; i < readings.Length; i++)
        {
            readings[i] = new TimeSeriesReading(1_700_000_000_000 + i, noisy ? random.NextDouble() * 100 : Math.Round(20 + ((i % 10) * 0.1) + ((i / 10 % 10) * 0.01), 2));
        }

        store.Append("s", readings, 1);
        List<ChunkHeader> chunks = [.. store.TakeChanges().Chunks.Select(c => c.Header)];
        Assert.True(chunks.Count >= 3, $"{chunks.Count} chunks");
        Assert.All(chunks, chunk => Assert.InRange(chunk.TotalBytes, 3500, 4000));
        Assert.All(chunks, chunk => Assert.InRange(chunk.Count, noisy ? 300 : 4097, noisy ? 600 : 8192));
        var back = new List<TimeSeriesReading>();
        store.ReadRange("s", long.MinValue, long.MaxValue, back);
        Assert.Equal(readings, back);
    }

    [Fact]
    public void Append_ByteTargetOff_ClosesOnReadingsOnly()
    {
        using var store = new TimeSeriesStore(new TimeSeriesOptions { ChunkBytesTarget = 0, ChunkReadingsMax = 1000 });
        var random = new Random(5);
        store.Append("s", Enumerable.Range(0, 2500).Select(i => new TimeSeriesReading(i, random.NextDouble())).ToArray(), 1);
        Assert.Equal(new[] { 1000, 1000 }, store.TakeChanges().Chunks.Select(c => c.Header.Count));
    }

    [Fact]
    public void Downsample_NegativeTimestamps_BucketsAlignToFloor()
    {
        using var store = new TimeSeriesStore(new TimeSeriesOptions());
        store.Append("s", [new(-1, 1), new(-1000, 2), new(-1001, 3), new(0, 4), new(999, 5)], 1);
        var buckets = new List<TimeSeriesBucket>();
        store.Downsample("s", -5000, 5000, 1000, buckets);
        Assert.Equal(new long[] { -2000, -1000, 0 }, buckets.Select(b => b.Start));
        Assert.Equal(new[] { 1, 2, 2 }, buckets.Select(b => b.Count));
        Assert.Equal(new[] { 3.0, 2.0, 4.0 }, buckets.Select(b => b.First));
    }

    [Fact]
    public void TakeChanges_ChunkGrownPastBound_IsSplit()
    {
        using var store = new TimeSeriesStore(new TimeSeriesOptions { ChunkReadingsMax = 10 });
        store.Append("s", Enumerable.Range(0, 21).Select(i => new TimeSeriesReading(i * 10, i)).ToArray(), 1);
        store.TakeChanges();
        // 30 late readings (odd timestamps 1..59) inside the first closed chunk's range [0, 90].
        store.Append("s", Enumerable.Range(0, 30).Select(i => new TimeSeriesReading((i * 2) + 1, -i)).ToArray(), 2);
        TimeSeriesChanges changes = store.TakeChanges();
        Assert.All(changes.Chunks, chunk => Assert.InRange(chunk.Header.Count, 1, 10));
        Assert.True(changes.Chunks.Count >= 4, $"{changes.Chunks.Count} chunks written");
        var all = new List<TimeSeriesReading>();
        store.ReadRange("s", 0, 1000, all);
        Assert.Equal(51, all.Count);
        Assert.True(all.Zip(all.Skip(1)).All(pair => pair.First.Timestamp < pair.Second.Timestamp));
    }

    [Fact]
    public void Recovery_ClosedChunksFromRowsAndHeadFromLog_EqualsLiveState_WithSeveralOrigins()
    {
        // What the database does: persist TakeChanges at a checkpoint, then rebuild on open from the
        // rows plus the log (heads from the oldest head LSN, everything after the checkpoint normally).
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        for (int round = 0; round < 40; round++)
        {
            var options = new TimeSeriesOptions { ChunkReadingsMax = random.Next(1, 40), ChunkSpan = TimeSpan.FromMilliseconds(random.Next(1000, 500_000)) };
            var log = new List<(long Lsn, string Series, TimeSeriesReading[]? Readings, long Cutoff, bool Delete, ulong Origin)>();
            var rows = new Dictionary<long, (string Series, byte[] Bytes)>();
            var seriesRows = new Dictionary<long, (string Name, long CreatedLsn, long Floor, long ClosedThrough, ulong Origin)>();
            long checkpointLsn = 0;
            long? headLsn = null;
            using var live = new TimeSeriesStore(options);
            int ops = random.Next(5, 60);
            for (long lsn = 1; lsn <= ops; lsn++)
            {
                string series = "s" + random.Next(3);
                int kind = random.Next(20);
                if (kind == 0)
                {
                    long cutoff = random.NextInt64(1_700_000_000_000, 1_700_000_600_000);
                    live.DropBefore(series, cutoff);
                    log.Add((lsn, series, null, cutoff, false, 0));
                }
                else if (kind == 1)
                {
                    live.DeleteSeries(series);
                    log.Add((lsn, series, null, 0, true, 0));
                }
                else
                {
                    // Readings of up to three origins per series: one chunk stream per (series, origin).
                    TimeSeriesReading[] batch = RandomBatch(random, random.Next(1, 40));
                    ulong origin = (ulong)random.Next(3) << 62;
                    live.Append(series, batch, lsn, origin);
                    log.Add((lsn, series, batch, 0, false, origin));
                }

                if (random.Next(6) == 0)
                {
                    Persist(live.TakeChanges(), rows, seriesRows);
                    checkpointLsn = lsn;
                    headLsn = live.OldestHeadLsn;
                }
            }

            using var recovered = new TimeSeriesStore(options);
            var seriesNames = new Dictionary<long, string>();
            foreach (var (id, row) in seriesRows)
            {
                recovered.LoadSeries(id, row.Name, row.CreatedLsn, row.Floor, row.ClosedThrough, row.Origin);
                seriesNames[id] = row.Name;
            }

            foreach (var (chunkId, row) in rows)
            {
                recovered.LoadChunk(row.Series, chunkId, ChunkHeader.Read(row.Bytes), row.Bytes);
            }

            recovered.CompleteLoad();
            foreach (var op in log)
            {
                if (op.Lsn <= checkpointLsn)
                {
                    if (headLsn is null || op.Lsn < headLsn)
                    {
                        continue;
                    }

                    if (op.Readings is not null)
                    {
                        recovered.ReplayIntoHead(op.Series, op.Readings, op.Lsn, op.Origin);
                    }

                    continue;
                }

                if (op.Readings is not null)
                {
                    recovered.Append(op.Series, op.Readings, op.Lsn, op.Origin);
                }
                else if (op.Delete)
                {
                    recovered.DeleteSeries(op.Series);
                }
                else
                {
                    recovered.DropBefore(op.Series, op.Cutoff);
                }
            }

            string context = $"seed {seed} round {round} checkpoint {checkpointLsn} head {headLsn}";
            Assert.True(live.ListSeries().Select(s => s.Name).SequenceEqual(recovered.ListSeries().Select(s => s.Name)), $"{context}: series differ");
            foreach (TimeSeriesInfo info in live.ListSeries())
            {
                var expected = new List<TimeSeriesReading>();
                var actual = new List<TimeSeriesReading>();
                live.ReadRange(info.Name, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax, expected);
                recovered.ReadRange(info.Name, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax, actual);
                Assert.True(expected.Count == actual.Count, $"{context} series {info.Name}: {actual.Count} readings recovered, expected {expected.Count}; expected {string.Join(",", expected)} actual {string.Join(",", actual)} ops " +
                    string.Join(" | ", log.Where(o => o.Series == info.Name).Select(o => $"{o.Lsn}:{(o.Readings is null ? (o.Delete ? "del" : "drop " + o.Cutoff) : string.Join(",", o.Readings.Select(r => r.Timestamp)))}")));
                for (int i = 0; i < expected.Count; i++)
                {
                    Assert.True(expected[i].BitEquals(actual[i]), $"{context} series {info.Name} index {i}: {actual[i]} vs {expected[i]}");
                }
            }
        }
    }

    [Fact]
    public void Query_EmptyRangeOrBadWidth_ThrowsTyped()
    {
        using var store = new TimeSeriesStore(new TimeSeriesOptions());
        Assert.Equal(EdgeErrorCode.TimeSeriesQueryInvalid, Assert.Throws<EdgeException>(() => store.ReadRange("s", 10, 10, [])).Code);
        Assert.Equal(EdgeErrorCode.TimeSeriesQueryInvalid, Assert.Throws<EdgeException>(() => store.Downsample("s", 0, 10, 0, [])).Code);
        Assert.Equal(0, store.ReadRange("missing", 0, 10, []));
    }

    private static void Persist(TimeSeriesChanges changes, Dictionary<long, (string Name, byte[] Bytes)> rows, Dictionary<long, (string Name, long CreatedLsn, long Floor, long ClosedThrough, ulong Origin)> seriesRows)
    {
        foreach (var series in changes.Series)
        {
            seriesRows[series.SeriesId] = (series.Name, series.CreatedLsn, series.RetentionFloor, series.ClosedThrough, series.Origin);
        }

        foreach (var chunk in changes.Chunks)
        {
            rows[chunk.ChunkId] = (seriesRows[chunk.SeriesId].Name, chunk.Bytes);
        }

        foreach (long chunkId in changes.DeletedChunks)
        {
            rows.Remove(chunkId);
        }

        foreach (long seriesId in changes.DeletedSeries)
        {
            seriesRows.Remove(seriesId);
        }
    }

    internal static TimeSeriesReading[] RandomBatch(Random random, int count)
    {
        const long start = 1_700_000_000_000;
        var batch = new TimeSeriesReading[count];
        int mode = random.Next(4);
        long cursor = start + random.Next(0, 600_000);
        for (int i = 0; i < count; i++)
        {
            long timestamp = mode switch
            {
                0 => cursor += 1000, // in order
                1 => start + random.Next(0, 600_000), // anywhere (late, duplicate)
                2 => start + (random.Next(0, 600) * 1000L), // duplicates likely
                _ => random.Next(10) == 0 ? start + (random.Next(-3, 30) * Day) : cursor += random.Next(1, 5000), // gaps and jumps
            };
            batch[i] = new TimeSeriesReading(timestamp, random.Next(6) == 0 ? SeriesGenerator.RandomValue(random) : Math.Round(random.NextDouble() * 100, 2));
        }

        return batch;
    }

    private static void AssertSameAsModel(TimeSeriesStore store, string series, SortedDictionary<long, double> model, string context)
    {
        var actual = new List<TimeSeriesReading>();
        store.ReadRange(series, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax, actual);
        Assert.True(model.Count == actual.Count, $"{context}: {actual.Count} readings, expected {model.Count}");
        int index = 0;
        foreach (var (timestamp, value) in model)
        {
            Assert.True(new TimeSeriesReading(timestamp, value).BitEquals(actual[index]), $"{context} index {index}: {actual[index]}, expected ({timestamp}, {value})");
            index++;
        }
    }

    private static List<TimeSeriesBucket> NaiveBuckets(SortedDictionary<long, double> model, long from, long to, long width) =>
        NaiveBuckets(model.Select(r => new TimeSeriesReading(r.Key, r.Value)), from, to, width);

    /// <summary>Buckets computed reading by reading; <paramref name="readings"/> in read order (timestamp, then origin).</summary>
    internal static List<TimeSeriesBucket> NaiveBuckets(IEnumerable<TimeSeriesReading> readings, long from, long to, long width)
    {
        var result = new List<TimeSeriesBucket>();
        foreach (var group in readings.Where(r => r.Timestamp >= from && r.Timestamp < to).GroupBy(r => (long)Math.Floor(r.Timestamp / (double)width) * width))
        {
            var values = group.Select(r => r.Value).ToList();
            var numbers = values.Where(v => !double.IsNaN(v)).ToList();
            result.Add(new TimeSeriesBucket
            {
                Start = group.Key,
                Count = values.Count,
                NanCount = values.Count - numbers.Count,
                Min = numbers.Count == 0 ? double.NaN : numbers.Min(),
                Max = numbers.Count == 0 ? double.NaN : numbers.Max(),
                Sum = numbers.Sum(),
                First = values[0],
                Last = values[^1],
                FirstTimestamp = group.First().Timestamp,
                LastTimestamp = group.Last().Timestamp,
            });
        }

        return result;
    }

    internal static void AssertBucket(TimeSeriesBucket expected, TimeSeriesBucket actual, string context, bool compareSum)
    {
        Assert.True(expected.Start == actual.Start, $"{context}: start {actual.Start}, expected {expected.Start}");
        Assert.True(expected.Count == actual.Count, $"{context}: count {actual.Count}, expected {expected.Count}");
        Assert.True(expected.NanCount == actual.NanCount, $"{context}: NaN count");
        Assert.True(expected.FirstTimestamp == actual.FirstTimestamp && expected.LastTimestamp == actual.LastTimestamp, $"{context}: first/last timestamp");
        Assert.True(SameBits(expected.First, actual.First) && SameBits(expected.Last, actual.Last), $"{context}: first/last value");
        Assert.True(expected.Min.Equals(actual.Min) && expected.Max.Equals(actual.Max), $"{context}: min {actual.Min}/{expected.Min} max {actual.Max}/{expected.Max}");
        // Sums are added per chunk, then across chunks: equal up to floating-point rounding.
        Assert.True(!compareSum || Close(expected.Sum, actual.Sum), $"{context}: sum {actual.Sum}, expected {expected.Sum}");
        Assert.True(!compareSum || Close(expected.Average, actual.Average), $"{context}: average {actual.Average}, expected {expected.Average}");
    }

    private static bool SameBits(double a, double b) => BitConverter.DoubleToUInt64Bits(a) == BitConverter.DoubleToUInt64Bits(b);

    /// <summary>
    /// Equal up to rounding. Sums near double.MaxValue (or holding infinities) depend on the order
    /// of addition, which differs between per-chunk and per-reading summation: not compared.
    /// </summary>
    private static bool Close(double a, double b) =>
        a.Equals(b)
        || (Huge(a) && Huge(b))
        || (double.IsFinite(a) && double.IsFinite(b) && Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b))));

    private static bool Huge(double x) => !double.IsFinite(x) || Math.Abs(x) > 1e300;
}
