using CortexEdge.Core.TimeSeries;

namespace CortexEdge.Core.Tests.TimeSeries;

/// <summary>
/// Merging replicas' readings of one series: a set union keyed by (timestamp, origin), read back
/// ordered by timestamp then origin, last write wins within one origin, the same in any
/// interleaving of the origins' op streams and idempotent under re-delivery.
/// </summary>
public sealed class TimeSeriesMergeTests
{
    [Fact]
    public void Merge_OriginsOpStreamsInAnyInterleaving_GiveTheSetUnionKeyedByTimestampAndOrigin()
    {
        int seed = SeriesGenerator.Seed();
        var random = new Random(seed);
        int rounds = SeriesGenerator.Iterations("CE_TS_MERGE_ROUNDS", 40);
        for (int round = 0; round < rounds; round++)
        {
            string context = $"seed {seed} round {round}";
            var options = new TimeSeriesOptions { ChunkReadingsMax = random.Next(1, 60), ChunkSpan = TimeSpan.FromMilliseconds(random.Next(1000, 600_000)) };
            // Origins above 2^63 too: they are stored as signed integers but ordered unsigned.
            ulong[] origins = [.. Enumerable.Range(0, random.Next(2, 4)).Select(_ => (ulong)random.NextInt64() | (random.Next(2) == 0 ? 0 : 1UL << 63)).Distinct()];
            List<TimeSeriesReading[]>[] streams = [.. origins.Select(_ => Enumerable.Range(0, random.Next(1, 12)).Select(_ => TimeSeriesStoreTests.RandomBatch(random, random.Next(1, 50))).ToList())];
            List<TimeSeriesReading> expected = Model(origins, streams);

            List<TimeSeriesReading>? firstRead = null;
            List<TimeSeriesBucket>? firstBuckets = null;
            long width = random.Next(3) switch { 0 => 1000, 1 => 60_000, _ => random.Next(1, 10_000_000) };
            for (int interleaving = 0; interleaving < 3; interleaving++)
            {
                // The last store runs in the live replica's mode (sealed chunks stay decoded).
                using var store = new TimeSeriesStore(options, recordChanges: interleaving < 2);
                long lsn = 0;
                int added = 0;
                foreach ((ulong origin, TimeSeriesReading[] batch) in Interleave(random, origins, streams))
                {
                    TimeSeriesAppendResult result = store.Append("s", batch, ++lsn, origin);
                    Assert.Equal(batch.Length, result.Added + result.Replaced);
                    added += result.Added;
                    if (random.Next(5) == 0)
                    {
                        store.TakeChanges();
                    }
                }

                string where = $"{context} interleaving {interleaving}";
                Assert.True(expected.Count == added, $"{where}: {added} readings added, expected {expected.Count}");
                List<TimeSeriesReading> read = AssertReads(store, expected, where);
                firstRead ??= read;

                var buckets = new List<TimeSeriesBucket>();
                store.Downsample("s", TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax, width, buckets);
                List<TimeSeriesBucket> naive = TimeSeriesStoreTests.NaiveBuckets(expected, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax, width);
                Assert.True(naive.Count == buckets.Count, $"{where}: {buckets.Count} buckets, expected {naive.Count}");
                for (int i = 0; i < naive.Count; i++)
                {
                    // Sums are added per origin and chunk: compared up to rounding, and not at all for huge values.
                    bool exactSum = expected.Where(r => r.Timestamp >= naive[i].Start && r.Timestamp - naive[i].Start < width).All(r => !(Math.Abs(r.Value) > 1e200));
                    TimeSeriesStoreTests.AssertBucket(naive[i], buckets[i], $"{where} bucket {i}", exactSum);
                }

                if (firstBuckets is null)
                {
                    firstBuckets = buckets;
                }
                else if (interleaving < 2)
                {
                    // Each origin's chunks depend on its own op order only: identical buckets, bit for bit
                    // but the sum (a chunk still held decoded is summed per reading, not from its header).
                    Assert.True(firstBuckets.SequenceEqual(buckets, BucketBits.Instance), $"{where}: buckets differ from the first interleaving");
                }

                // Re-delivery of every op (another interleaving, each origin again in its order) changes nothing.
                foreach ((ulong origin, TimeSeriesReading[] batch) in Interleave(random, origins, streams))
                {
                    Assert.Equal(0, store.Append("s", batch, ++lsn, origin).Added);
                }

                AssertReads(store, expected, where + " after re-delivery");
                Assert.Equal(expected.Count, store.ListSeries().Single().Count);
            }
        }
    }

    [Fact]
    public void Merge_SameTimestampFromTwoOrigins_BothKept_OrderedByOrigin_LastWriteWinsWithinAnOrigin()
    {
        using var store = new TimeSeriesStore(new TimeSeriesOptions { ChunkReadingsMax = 2 });
        const ulong low = 0x10;
        const ulong high = 0xF000_0000_0000_0000; // above 2^63: ordered as unsigned
        Assert.Equal(new TimeSeriesAppendResult(2, 0, 0), store.Append("s", [new(1000, 1.0), new(2000, 2.0)], 1, high));
        Assert.Equal(new TimeSeriesAppendResult(2, 0, 0), store.Append("s", [new(2000, 20.0), new(3000, 30.0)], 2, low));
        Assert.Equal(new TimeSeriesAppendResult(0, 1, 0), store.Append("s", [new(2000, 21.0)], 3, low)); // same origin: replaces
        Assert.Equal(new TimeSeriesAppendResult(0, 1, 0), store.Append("s", [new(1000, 1.0)], 4, high)); // re-delivered: same value

        var read = new List<TimeSeriesReading>();
        var origins = new List<ulong>();
        store.ReadRange("s", 0, 10_000, read, origins);
        Assert.Equal([new(1000, 1.0), new(2000, 21.0), new(2000, 2.0), new(3000, 30.0)], read);
        Assert.Equal([high, low, high, low], origins);

        var buckets = new List<TimeSeriesBucket>();
        store.Downsample("s", 0, 10_000, 10_000, buckets);
        TimeSeriesBucket bucket = Assert.Single(buckets);
        Assert.Equal((4, 1.0, 30.0, 54.0, 1.0, 30.0), (bucket.Count, bucket.Min, bucket.Max, bucket.Sum, bucket.First, bucket.Last));

        buckets.Clear();
        store.Downsample("s", 2000, 2001, 1000, buckets);
        // Equal timestamps: the lower origin's reading is first, the higher origin's last.
        Assert.Equal((2, 21.0, 2.0), (Assert.Single(buckets).Count, buckets[0].First, buckets[0].Last));

        TimeSeriesInfo info = store.ListSeries().Single();
        Assert.Equal((4L, 1000L, 3000L), (info.Count, info.FirstTimestamp, info.LastTimestamp));

        // Retention and delete cover every origin; a new origin's stream starts under the floor.
        TimeSeriesRetentionResult retention = store.DropBefore("s", 2500, 5);
        Assert.Equal(4L, retention.ReadingsDropped + retention.ReadingsKept);
        Assert.Equal(new TimeSeriesAppendResult(0, 0, 1), store.Append("s", [new(2000, 5.0)], 6, 0x77));
        Assert.Equal(new TimeSeriesAppendResult(1, 0, 0), store.Append("s", [new(2500, 5.0)], 7, 0x77));
        Assert.Equal(retention.ReadingsKept + 1, store.DeleteSeries("s"));
        Assert.Empty(store.ListSeries());
    }

    // The set union: per (timestamp, origin) the last value that origin wrote; ordered by timestamp, then origin.
    private static List<TimeSeriesReading> Model(ulong[] origins, List<TimeSeriesReading[]>[] streams)
    {
        var model = new Dictionary<(long Timestamp, ulong Origin), double>();
        for (int o = 0; o < origins.Length; o++)
        {
            foreach (TimeSeriesReading reading in streams[o].SelectMany(batch => batch))
            {
                model[(reading.Timestamp, origins[o])] = reading.Value;
            }
        }

        return [.. model.OrderBy(e => e.Key.Timestamp).ThenBy(e => e.Key.Origin).Select(e => new TimeSeriesReading(e.Key.Timestamp, e.Value))];
    }

    // A random merge of the origins' op streams that keeps each origin's own order (what sync guarantees).
    private static IEnumerable<(ulong Origin, TimeSeriesReading[] Batch)> Interleave(Random random, ulong[] origins, List<TimeSeriesReading[]>[] streams)
    {
        int[] next = new int[origins.Length];
        while (true)
        {
            int[] open = [.. Enumerable.Range(0, origins.Length).Where(o => next[o] < streams[o].Count)];
            if (open.Length == 0)
            {
                yield break;
            }

            int pick = open[random.Next(open.Length)];
            yield return (origins[pick], streams[pick][next[pick]++]);
        }
    }

    private static List<TimeSeriesReading> AssertReads(TimeSeriesStore store, List<TimeSeriesReading> expected, string context)
    {
        var actual = new List<TimeSeriesReading>();
        store.ReadRange("s", TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax, actual);
        Assert.True(expected.Count == actual.Count, $"{context}: {actual.Count} readings, expected {expected.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].BitEquals(actual[i]), $"{context} index {i}: {actual[i]}, expected {expected[i]}");
        }

        return actual;
    }

    private sealed class BucketBits : IEqualityComparer<TimeSeriesBucket>
    {
        public static readonly BucketBits Instance = new();

        public bool Equals(TimeSeriesBucket a, TimeSeriesBucket b) =>
            a.Start == b.Start && a.Count == b.Count && a.NanCount == b.NanCount && a.FirstTimestamp == b.FirstTimestamp && a.LastTimestamp == b.LastTimestamp
            && Bits(a.Min) == Bits(b.Min) && Bits(a.Max) == Bits(b.Max) && Bits(a.First) == Bits(b.First) && Bits(a.Last) == Bits(b.Last);

        public int GetHashCode(TimeSeriesBucket bucket) => bucket.Start.GetHashCode();

        private static ulong Bits(double value) => BitConverter.DoubleToUInt64Bits(value);
    }
}
