using CortexEdge.Core.Clocks;
using CortexEdge.Core.Vectors;

namespace CortexEdge.Core.Tests.Vectors;

public sealed class VectorCollectionTests : IDisposable
{
    private readonly VectorTestData.TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(VectorMetric.Cosine)]
    [InlineData(VectorMetric.Dot)]
    [InlineData(VectorMetric.L2)]
    public void UpsertThenGet_ReturnsCopyAndKey(VectorMetric metric)
    {
        using VectorCollection collection = Create(4, metric);
        collection.Upsert("a", [1, 2, 3, 4], "doc/1");
        VectorRecord record = collection.Get("a");
        Assert.Equal([1f, 2f, 3f, 4f], record.Vector);
        Assert.Equal("doc/1", record.DocumentKey);
        Assert.Equal(1, collection.Count);
        record.Vector[0] = 99; // a copy: changing it changes nothing stored
        Assert.Equal(1f, collection.Get("a").Vector[0]);
    }

    [Fact]
    public void Upsert_ExistingId_ReplacesVectorAndKey()
    {
        using VectorCollection collection = Create(3, VectorMetric.L2);
        collection.Upsert("a", [1, 0, 0], "doc/1");
        collection.Upsert("b", [0, 1, 0], "doc/2");
        collection.Upsert("a", [0, 0, 1], "doc/3");
        Assert.Equal(2, collection.Count);
        Assert.Equal([0f, 0f, 1f], collection.Get("a").Vector);
        VectorMatch best = collection.Search([0, 0, 1], 1)[0];
        Assert.Equal(("a", "doc/3", 0f), (best.Id, best.DocumentKey, best.Distance));
    }

    [Fact]
    public void Delete_RemovesFromGetAndNextSearch()
    {
        using VectorCollection collection = Create(2, VectorMetric.L2);
        collection.Upsert("a", [0, 0], "k/a");
        collection.Upsert("b", [1, 1], "k/b");
        Assert.Equal("a", collection.Search([0, 0], 1)[0].Id);
        Assert.True(collection.Delete("a"));
        Assert.False(collection.Delete("a"));
        Assert.False(collection.Contains("a"));
        Assert.False(collection.TryGet("a", new float[2], out _));
        EdgeException error = Assert.Throws<EdgeException>(() => collection.Get("a"));
        Assert.Equal(EdgeErrorCode.VectorNotFound, error.Code);
        VectorMatch[] results = collection.Search([0, 0], 5);
        Assert.Equal(["b"], results.Select(r => r.Id));
    }

    [Fact]
    public void Search_EmptyCollection_ReturnsNothing()
    {
        using VectorCollection collection = Create(8, VectorMetric.Cosine);
        Assert.Empty(collection.Search(Enumerable.Repeat(1f, 8).ToArray(), 10));
    }

    [Theory]
    [InlineData(VectorMetric.Cosine)]
    [InlineData(VectorMetric.Dot)]
    [InlineData(VectorMetric.L2)]
    public void Search_DistancesAreExactAndAscending(VectorMetric metric)
    {
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        const int dimension = 24, count = 600;
        float[] points = VectorTestData.GaussianMixture(random, count, dimension, 6, 0.3f);
        using VectorCollection collection = Create(dimension, metric);
        for (int i = 0; i < count; i++)
        {
            collection.Upsert($"v{i}", points.AsSpan(i * dimension, dimension), $"doc/{i}");
        }

        float[] query = VectorTestData.GaussianMixture(random, 1, dimension, 1, 1f);
        VectorMatch[] results = collection.Search(query, 10);
        Assert.Equal(10, results.Length);
        for (int i = 0; i < results.Length; i++)
        {
            int index = int.Parse(results[i].Id.AsSpan(1));
            double exact = VectorTestData.ExactDistance(metric, query, points.AsSpan(index * dimension, dimension));
            Assert.True(Math.Abs(exact - results[i].Distance) <= 1e-3 * Math.Max(1, Math.Abs(exact)), $"seed {seed}: result {i} distance {results[i].Distance}, exact {exact}");
            Assert.Equal($"doc/{index}", results[i].DocumentKey);
            if (i > 0)
            {
                Assert.True(results[i - 1].Distance <= results[i].Distance, $"seed {seed}: results not ascending at {i}");
            }
        }
    }

    [Fact]
    public void Upsert_BadVectors_ThrowVectorInvalidNamingTheProblem()
    {
        using VectorCollection collection = Create(3, VectorMetric.Cosine);
        AssertInvalid(() => collection.Upsert("a", [1, 2], "k"), "2 components", "dimension 3");
        AssertInvalid(() => collection.Upsert("a", [1, float.NaN, 2], "k"), "component 1", "NaN");
        AssertInvalid(() => collection.Upsert("a", [1, 2, float.PositiveInfinity], "k"), "component 2");
        AssertInvalid(() => collection.Upsert("a", [0, 0, 0], "k"), "zero");
        AssertInvalid(() => collection.Upsert("a", [3e38f, 3e38f, 1], "k"), "overflows");
        AssertInvalid(() => collection.Search([1, 2, 3, 4], 1), "query vector", "4 components");
        AssertInvalid(() => collection.Search([float.NegativeInfinity, 2, 3], 1), "query vector", "component 0");
        Assert.Throws<ArgumentOutOfRangeException>(() => collection.Search([1, 2, 3], 0));
        Assert.Throws<ArgumentException>(() => collection.Upsert("", [1, 2, 3], "k"));
        Assert.Equal(0, collection.Count);
    }

    [Fact]
    public void Create_BadDimension_ThrowsVectorInvalid()
    {
        EdgeException error = Assert.Throws<EdgeException>(() => Create(0, VectorMetric.L2));
        Assert.Equal(EdgeErrorCode.VectorInvalid, error.Code);
        error = Assert.Throws<EdgeException>(() => Create(VectorCollectionOptions.DimensionMax + 1, VectorMetric.L2));
        Assert.Contains("4097", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Upsert_ZeroVectorUnderL2_IsAccepted()
    {
        using VectorCollection collection = Create(3, VectorMetric.L2);
        collection.Upsert("origin", [0, 0, 0], "k");
        Assert.Equal("origin", collection.Search([0, 0, 0], 1)[0].Id);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(96)]
    public void Search_KeyPrefixAndPredicate_ReturnOnlyMatchingExactTopK(int dimension)
    {
        // 16: codes in one plane; 96: head and tail planes, filters applied after the tail is read.
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        const int count = 3000;
        float[] points = VectorTestData.GaussianMixture(random, count, dimension, 10, 0.5f);
        using VectorCollection collection = Create(dimension, VectorMetric.L2);
        for (int i = 0; i < count; i++)
        {
            collection.Upsert($"v{i}", points.AsSpan(i * dimension, dimension), $"{(i % 3 == 0 ? "sensor" : "audio")}/{i}");
        }

        float[] query = points.AsSpan(7 * dimension, dimension).ToArray();
        var prefix = new VectorSearchOptions { KeyPrefix = "sensor/" };
        VectorMatch[] byPrefix = collection.Search(query, 10, prefix);
        Assert.Equal(10, byPrefix.Length);
        Assert.All(byPrefix, m => Assert.StartsWith("sensor/", m.DocumentKey, StringComparison.Ordinal));
        int[] expected = VectorTestData.BruteForce(VectorMetric.L2, points, dimension, query, 10, i => i % 3 == 0);
        Assert.True(expected.Select(i => $"v{i}").Intersect(byPrefix.Select(m => m.Id)).Count() >= 9, $"seed {seed}: prefix-filtered results differ from exact");

        var even = new VectorSearchOptions { DocumentPredicate = key => int.Parse(key.AsSpan(key.IndexOf('/') + 1)) % 2 == 0, KeyPrefix = "audio/" };
        VectorMatch[] filtered = collection.Search(query, 10, even);
        Assert.Equal(10, filtered.Length);
        Assert.All(filtered, m => Assert.True(m.DocumentKey.StartsWith("audio/", StringComparison.Ordinal) && int.Parse(m.Id.AsSpan(1)) % 2 == 0, m.DocumentKey));

        var none = new VectorSearchOptions { KeyPrefix = "nothing/" };
        Assert.Empty(collection.Search(query, 10, none));
    }

    [Fact]
    public void RandomOperations_MatchModel_AcrossRetraining()
    {
        // Upserts, replacements and deletes interleaved across several retrains (flat, then partitioned at
        // 1500): every stored vector stays retrievable, and searching a stored vector finds it first.
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        const int dimension = 12;
        var options = new VectorCollectionOptions { Dimension = dimension, Metric = VectorMetric.L2, PartitionThreshold = 1500, Nprobe = 4 };
        using VectorCollection collection = VectorCollection.Create("model", _directory.File("model.vec"), options);
        var model = new Dictionary<string, (float[] Vector, string Key)>();
        for (int op = 0; op < 6000; op++)
        {
            string id = $"v{random.Next(4000)}";
            if (random.Next(5) == 0)
            {
                Assert.Equal(model.Remove(id), collection.Delete(id));
            }
            else
            {
                float[] vector = Enumerable.Range(0, dimension).Select(_ => VectorTestData.Gaussian(random) * 10).ToArray();
                string key = $"doc/{op}";
                collection.Upsert(id, vector, key);
                model[id] = (vector, key);
            }
        }

        Assert.Equal(model.Count, collection.Count);
        Assert.True(collection.GetStatistics().PartitionCount > 1, $"seed {seed}: expected partitioned mode at {model.Count} vectors");
        float[] buffer = new float[dimension];
        int selfHits = 0;
        foreach ((string id, (float[] vector, string key)) in model)
        {
            Assert.True(collection.TryGet(id, buffer, out string? storedKey), $"seed {seed}: {id} missing");
            Assert.Equal(key, storedKey);
            Assert.Equal(vector, buffer);
            if (collection.Search(vector, 1)[0].Id == id)
            {
                selfHits++;
            }
        }

        // A stored vector lies in the partition of its nearest centroid, which is the first one probed.
        Assert.True(selfHits == model.Count, $"seed {seed}: {selfHits} of {model.Count} vectors found themselves first");
    }

    [Fact]
    public void FlatDeletes_MoveTheLastSlotIntoTheHole_EveryVectorStaysFoundAcrossRetrainAndReopen()
    {
        // A flat index keeps no slot per member (slot = position): a delete moves the last vector, its
        // trailer (id, version), key, codes and id map entry into the hole. Random deletes and
        // replacements (long ids and other keys among them) against a model, across flat retrains at
        // each doubling, a save and a reopen from the index file, and more writes after it.
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        const int Dimension = 12;
        var options = new VectorCollectionOptions { Dimension = Dimension, Metric = VectorMetric.L2 };
        string vectorPath = _directory.File($"f{Guid.NewGuid():N}.vec");
        string indexPath = Path.ChangeExtension(vectorPath, VectorCollection.IndexFileExtension);
        var model = new Dictionary<string, (float[] Vector, string Key)>();
        string IdOf(int i) => i % 7 == 0 ? $"long/{i}/" + new string('x', VectorFile.InlineIdBytes) : $"v{i}";

        void RandomWrites(VectorCollection collection, int count)
        {
            for (int op = 0; op < count; op++)
            {
                string id = IdOf(random.Next(900));
                if (random.Next(3) == 0)
                {
                    Assert.Equal(model.Remove(id), collection.Delete(id));
                }
                else
                {
                    float[] vector = Enumerable.Range(0, Dimension).Select(_ => VectorTestData.Gaussian(random) * 10).ToArray();
                    string key = random.Next(4) == 0 ? $"doc/{op}" : id;
                    collection.Upsert(id, vector, key);
                    model[id] = (vector, key);
                }
            }
        }

        void MatchesModel(VectorCollection collection)
        {
            Assert.Equal(model.Count, collection.Count);
            Assert.Equal(1, collection.GetStatistics().PartitionCount);
            float[] buffer = new float[Dimension];
            foreach ((string id, (float[] vector, string key)) in model)
            {
                Assert.True(collection.TryGet(id, buffer, out string? storedKey), $"seed {seed}: {id} missing");
                Assert.Equal(vector, buffer);
                Assert.Equal(key, storedKey);
                VectorMatch nearest = collection.Search(vector, 1)[0];
                Assert.True((id, key, 0f) == (nearest.Id, nearest.DocumentKey, nearest.Distance), $"seed {seed}: {id} found {nearest.Id}");
            }
        }

        using (VectorCollection collection = VectorCollection.Create("flat", vectorPath, options))
        {
            RandomWrites(collection, 3000);
            MatchesModel(collection);
            collection.SaveIndexFile(indexPath, new Dictionary<string, HlcTimestamp>(), stateLsn: 3);
        }

        using VectorCollection? reopened = VectorCollection.TryOpen("flat", vectorPath, indexPath, options, 3, out _, out EdgeCorruptionException? problem);
        Assert.True(reopened is not null, $"seed {seed}: {problem?.Message}");
        MatchesModel(reopened);
        RandomWrites(reopened, 1000);
        MatchesModel(reopened);
    }

    [Fact]
    public void Search_ParallelAndSingleThreaded_ReturnTheSameResults()
    {
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        const int dimension = 32, count = 40_000;
        float[] points = VectorTestData.GaussianMixture(random, count, dimension, 20, 0.4f);
        var options = new VectorCollectionOptions { Dimension = dimension, Metric = VectorMetric.Cosine, PartitionThreshold = 1_000_000 };
        using VectorCollection collection = VectorCollection.Create("p", _directory.File("p.vec"), options);
        for (int i = 0; i < count; i++)
        {
            collection.Upsert($"v{i}", points.AsSpan(i * dimension, dimension), "k");
        }

        var single = new VectorSearchOptions { MaxDegreeOfParallelism = 1 };
        var parallel = new VectorSearchOptions { MaxDegreeOfParallelism = 4 };
        for (int q = 0; q < 20; q++)
        {
            float[] query = points.AsSpan(random.Next(count) * dimension, dimension).ToArray();
            Assert.Equal(collection.Search(query, 10, single).Select(m => m.Id), collection.Search(query, 10, parallel).Select(m => m.Id));
        }
    }

    [Fact]
    public async Task Search_ConcurrentWithUpserts_NeverFailsAndSeesCommittedVectors()
    {
        const int dimension = 8;
        using VectorCollection collection = Create(dimension, VectorMetric.L2);
        collection.Upsert("anchor", new float[dimension], "k");
        Task writer = Task.Run(() =>
        {
            var random = new Random(1);
            for (int i = 0; i < 5000; i++)
            {
                collection.Upsert($"v{i % 700}", Enumerable.Range(0, dimension).Select(_ => 5f + (float)random.NextDouble()).ToArray(), "k");
                if (i % 7 == 0)
                {
                    collection.Delete($"v{(i / 7) % 700}");
                }
            }
        });
        int searches = 0;
        while (!writer.IsCompleted)
        {
            Assert.Equal("anchor", collection.Search(new float[dimension], 1)[0].Id);
            searches++;
        }

        await writer;
        Assert.True(searches > 0);
    }

    [Fact]
    public void Statistics_ReportShapeAndSizes()
    {
        using VectorCollection collection = Create(1024, VectorMetric.Cosine);
        collection.Upsert("a", Enumerable.Repeat(1f, 1024).ToArray(), "k");
        VectorCollectionStatistics stats = collection.GetStatistics();
        Assert.Equal(1, stats.Count);
        Assert.Equal(1024, stats.Dimension);
        Assert.True(stats.SignCodes); // Auto keeps sign codes from 1024 dimensions
        using VectorCollection narrower = Create(768, VectorMetric.Cosine);
        Assert.False(narrower.GetStatistics().SignCodes);
        Assert.Equal(1, stats.PartitionCount);
        Assert.True(stats.FileBytes >= VectorFile.HeaderBytes + (1024 * 4), $"file bytes {stats.FileBytes}");
        Assert.True(stats.IndexBytes > 1024, $"index bytes {stats.IndexBytes}");
    }

    [Fact]
    public void SaveIndexFile_ThenTryOpen_PartitionedIndexIsIdentical()
    {
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        const int Dimension = 16;
        float[] points = VectorTestData.GaussianMixture(random, 5020, Dimension, 12, 1.0f);
        var options = new VectorCollectionOptions { Dimension = Dimension, Metric = VectorMetric.L2, PartitionThreshold = 2000 };
        string vectorPath = _directory.File($"s{Guid.NewGuid():N}.vec");
        string indexPath = Path.ChangeExtension(vectorPath, VectorCollection.IndexFileExtension);
        string[] before;
        VectorCollectionStatistics saved;
        using (VectorCollection collection = VectorCollection.Create("saved", vectorPath, options))
        {
            for (int i = 0; i < 5000; i++)
            {
                collection.Upsert($"{i}", points.AsSpan(i * Dimension, Dimension), $"k{i % 7}");
            }

            for (int i = 0; i < 5000; i += 9)
            {
                collection.Delete($"{i}");
            }

            before = Snapshot(collection, points, Dimension);
            saved = collection.GetStatistics();
            Assert.True(saved.PartitionCount > 1);
            collection.SaveIndexFile(indexPath, new Dictionary<string, HlcTimestamp> { ["gone"] = new(42, 7) }, stateLsn: 99);
            Assert.False(collection.HasUnsavedChanges);
        }

        // Another state-store LSN than the one saved with: a restored or replaced state store.
        Assert.Null(VectorCollection.TryOpen("saved", vectorPath, indexPath, options, 98, out _, out EdgeCorruptionException? stale));
        Assert.Contains("restored or replaced", stale!.Message, StringComparison.Ordinal);

        using VectorCollection? reopened = VectorCollection.TryOpen("saved", vectorPath, indexPath, options, 99, out Dictionary<string, HlcTimestamp> tombstones, out EdgeCorruptionException? problem);
        Assert.True(reopened is not null, $"seed {seed}: {problem?.Message}");
        Assert.Equal(new HlcTimestamp(42, 7), Assert.Single(tombstones).Value);
        VectorCollectionStatistics stats = reopened.GetStatistics();
        Assert.True(stats.LoadedFromIndexFile);
        Assert.Equal((saved.Count, saved.PartitionCount), (stats.Count, stats.PartitionCount));
        Assert.Equal(before, Snapshot(reopened, points, Dimension));

        // Writes after the open work and make the saved file stale until the next save.
        Assert.False(reopened.HasUnsavedChanges);
        reopened.Upsert("new", points.AsSpan(5010 * Dimension, Dimension), "k");
        Assert.True(reopened.Delete("1"));
        Assert.True(reopened.HasUnsavedChanges);
        Assert.Equal("new", reopened.Search(points.AsSpan(5010 * Dimension, Dimension), 1)[0].Id);
        Assert.Equal(saved.Count, reopened.Count);
    }

    [Fact]
    public void Ids_InlineLongAndNonAscii_AreFoundFilteredAndRestoredFromTheIndexFile()
    {
        // Ids live in the float32 file's slot trailers (up to InlineIdBytes UTF-8 bytes) or, longer, in
        // memory and the index file: both kinds, multi-byte text, prefix filters on them, and a reopen.
        const int Dimension = 8;
        var options = new VectorCollectionOptions { Dimension = Dimension, Metric = VectorMetric.L2 };
        string vectorPath = _directory.File($"i{Guid.NewGuid():N}.vec");
        string indexPath = Path.ChangeExtension(vectorPath, VectorCollection.IndexFileExtension);
        string[] ids =
        [
            "a", "é/ü", "sensor/\U0001F600", new string('x', VectorFile.InlineIdBytes), new string('y', VectorFile.InlineIdBytes + 1),
            "sensor/" + new string('z', 300), "sensor/" + new string('é', 100), "sensor/short",
        ];
        float[] Point(int i) => Enumerable.Range(0, Dimension).Select(d => (float)((i * 10) + d)).ToArray();
        using (VectorCollection collection = VectorCollection.Create("ids", vectorPath, options))
        {
            for (int i = 0; i < ids.Length; i++)
            {
                collection.Upsert(ids[i], Point(i), i == 1 ? "other key" : ids[i]);
            }

            // Delete and re-add a long id: its slot is reused.
            Assert.True(collection.Delete(ids[4]));
            Assert.False(collection.Contains(ids[4]));
            collection.Upsert(ids[4], Point(4), ids[4]);
            Assert.Throws<EdgeException>(() => collection.Upsert("bad\uD800", Point(0), "k"));
            collection.SaveIndexFile(indexPath, new Dictionary<string, HlcTimestamp>(), stateLsn: 5);
        }

        using VectorCollection? reopened = VectorCollection.TryOpen("ids", vectorPath, indexPath, options, 5, out _, out EdgeCorruptionException? problem);
        Assert.True(reopened is not null, problem?.Message);
        Assert.True(reopened.GetStatistics().LoadedFromIndexFile);
        for (int i = 0; i < ids.Length; i++)
        {
            VectorRecord record = reopened.Get(ids[i]);
            Assert.Equal(Point(i), record.Vector);
            Assert.Equal(i == 1 ? "other key" : ids[i], record.DocumentKey);
            VectorMatch nearest = reopened.Search(Point(i), 1)[0];
            Assert.Equal((ids[i], record.DocumentKey), (nearest.Id, nearest.DocumentKey));
        }

        VectorMatch[] sensors = reopened.Search(Point(0), ids.Length, new VectorSearchOptions { KeyPrefix = "sensor/" });
        Assert.Equal(ids.Where(id => id.StartsWith("sensor/", StringComparison.Ordinal)).Order(StringComparer.Ordinal), sensors.Select(m => m.Id).Order(StringComparer.Ordinal));
        Assert.False(reopened.Contains("sensor/"));
        Assert.False(reopened.Contains("bad\uD800"));
    }

    [Fact]
    public void TryOpen_ChangedAfterSaveWithoutNewSave_ReportsNotClosed()
    {
        var options = new VectorCollectionOptions { Dimension = 4, Metric = VectorMetric.L2 };
        string vectorPath = _directory.File($"o{Guid.NewGuid():N}.vec");
        string indexPath = Path.ChangeExtension(vectorPath, VectorCollection.IndexFileExtension);
        using (VectorCollection collection = VectorCollection.Create("open", vectorPath, options))
        {
            collection.Upsert("a", [1, 2, 3, 4], "k");
            collection.SaveIndexFile(indexPath, new Dictionary<string, HlcTimestamp>(), stateLsn: 1);
            collection.Upsert("b", [4, 3, 2, 1], "k"); // dies here: no second save
        }

        Assert.Null(VectorCollection.TryOpen("open", vectorPath, indexPath, options, 1, out _, out EdgeCorruptionException? problem));
        Assert.Equal(EdgeErrorCode.VectorFileCorrupt, problem!.Code);
        Assert.Contains("not closed", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryOpen_FuzzedIndexFile_OpensOrReportsCorruptionNeverThrows()
    {
        // Mutations with the CRCs recomputed reach the parser's bounds checks; without, the CRC catches them.
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("CE_VECTOR_INDEX_FUZZ_ROUNDS"), out int configured) ? configured : 300;
        const int Dimension = 8;
        var options = new VectorCollectionOptions { Dimension = Dimension, Metric = VectorMetric.L2, PartitionThreshold = 300 };
        string vectorPath = _directory.File($"f{Guid.NewGuid():N}.vec");
        string indexPath = Path.ChangeExtension(vectorPath, VectorCollection.IndexFileExtension);
        float[] points = VectorTestData.GaussianMixture(random, 700, Dimension, 5, 1.0f);
        using (VectorCollection collection = VectorCollection.Create("fuzz", vectorPath, options))
        {
            for (int i = 0; i < 700; i++)
            {
                collection.Upsert($"id{i}", points.AsSpan(i * Dimension, Dimension), i % 3 == 0 ? $"id{i}" : $"key{i}");
            }

            for (int i = 0; i < 700; i += 11)
            {
                collection.Delete($"id{i}");
            }

            collection.SaveIndexFile(indexPath, new Dictionary<string, HlcTimestamp> { ["gone"] = new(5, 6) }, stateLsn: 3);
        }

        byte[] original = File.ReadAllBytes(indexPath);
        int opened = 0, rejected = 0;
        for (int round = 0; round < rounds; round++)
        {
            byte[] mutated = (byte[])original.Clone();
            int length = mutated.Length;
            switch (random.Next(4))
            {
                case 0:
                    length = random.Next(length);
                    break;
                case 1:
                    for (int i = random.Next(1, 4); i > 0; i--)
                    {
                        mutated[64 + random.Next(length - 64)] = (byte)random.Next(256);
                    }

                    break;
                default:
                    // A 4-byte field overwritten with a small, large or negative value, CRCs made valid again.
                    int offset = 64 + (random.Next((length - 64) / 4) * 4);
                    int value = random.Next(3) switch { 0 => random.Next(-2, 3), 1 => random.Next(), _ => -random.Next() };
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(mutated.AsSpan(offset), value);
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(mutated.AsSpan(32), Core.Binary.Crc32C.Append(0, mutated.AsSpan(64)));
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(mutated.AsSpan(44), Core.Binary.Crc32C.Append(0, mutated.AsSpan(0, 44)));
                    break;
            }

            File.WriteAllBytes(indexPath, mutated.AsSpan(0, length).ToArray());
            VectorCollection? collection;
            EdgeCorruptionException? problem;
            try
            {
                collection = VectorCollection.TryOpen("fuzz", vectorPath, indexPath, options, 3, out _, out problem);
            }
            catch (Exception exception)
            {
                Assert.Fail($"seed {seed}, round {round}: TryOpen threw {exception.GetType().Name}: {exception.Message}");
                return;
            }

            if (collection is null)
            {
                Assert.Equal(EdgeErrorCode.VectorFileCorrupt, problem!.Code);
                rejected++;
                continue;
            }

            using (collection)
            {
                // A mutation the checks cannot see (a code or scale byte) still gives a searchable index.
                Assert.NotEmpty(collection.Search(points.AsSpan(0, Dimension), 5));
                opened++;
            }
        }

        Assert.True(rejected > rounds / 2, $"seed {seed}: only {rejected} of {rounds} mutations were rejected ({opened} opened)");
    }

    private static string[] Snapshot(VectorCollection collection, float[] points, int dimension)
    {
        var lines = new List<string>();
        for (int q = 5000; q < 5020; q++)
        {
            foreach (int nprobe in new[] { 1, 3, 0 })
            {
                VectorMatch[] matches = collection.Search(points.AsSpan(q * dimension, dimension), 10, new VectorSearchOptions { Nprobe = nprobe, MaxDegreeOfParallelism = 1 });
                lines.Add(string.Join(",", matches.Select(m => $"{m.Id}:{m.DocumentKey}:{m.Distance:R}")));
            }
        }

        return [.. lines];
    }

    [Fact]
    public void Dispose_ThenUse_ThrowsObjectDisposed()
    {
        VectorCollection collection = Create(2, VectorMetric.L2);
        collection.Dispose();
        collection.Dispose();
        Assert.Throws<ObjectDisposedException>(() => collection.Upsert("a", [1, 2], "k"));
        Assert.Throws<ObjectDisposedException>(() => collection.Search([1, 2], 1));
    }

    private VectorCollection Create(int dimension, VectorMetric metric) =>
        VectorCollection.Create("test", _directory.File($"c{Guid.NewGuid():N}.vec"), new VectorCollectionOptions { Dimension = dimension, Metric = metric });

    private static void AssertInvalid(Action action, params string[] fragments)
    {
        EdgeException error = Assert.Throws<EdgeException>(action);
        Assert.Equal(EdgeErrorCode.VectorInvalid, error.Code);
        foreach (string fragment in fragments)
        {
            Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        }
    }
}
