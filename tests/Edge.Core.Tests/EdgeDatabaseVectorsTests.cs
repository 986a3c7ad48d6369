using System.Buffers;
using System.Globalization;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.Documents;
using CortexEdge.Core.State;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.Vectors;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests;

public sealed class EdgeDatabaseVectorsTests : IDisposable
{
    private readonly WalTestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    // Nothing is checkpointed unless a test asks, so reopen paths exercise WAL replay.
    private EdgeDatabase Open() => EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
    {
        Durability = WalDurability.None,
        CheckpointInterval = TimeSpan.FromHours(1),
        CheckpointRecordCount = int.MaxValue,
    });

    [Fact]
    public async Task CreateUpsertSearchDelete_ReadYourWrites_OneVectorRecordPerWrite()
    {
        using EdgeDatabase database = Open();
        WriteReceipt create = await database.CreateVectorCollectionAsync("faults", 3, VectorMetric.L2);
        WriteReceipt upsert = await database.UpsertVectorAsync("faults", "bearing", [1, 0, 0], "signatures/bearing");
        await database.UpsertVectorAsync("faults", "imbalance", [0, 1, 0], "signatures/imbalance");
        Assert.Equal(create.Lsn + 1, upsert.Lsn);
        Assert.Equal(["faults"], database.GetVectorCollectionNames());

        VectorMatch best = database.SearchVectors("faults", [0.9f, 0.1f, 0], 1)[0];
        Assert.Equal(("bearing", "signatures/bearing"), (best.Id, best.DocumentKey));
        Assert.Equal(0.02f, best.Distance, 5);
        VectorRecord? record = database.GetVector("faults", "imbalance");
        Assert.Equal([0f, 1f, 0f], record!.Vector);

        await database.DeleteVectorAsync("faults", "bearing");
        Assert.Null(database.GetVector("faults", "bearing"));
        Assert.Equal(["imbalance"], database.SearchVectors("faults", [1, 0, 0], 5).Select(m => m.Id));

        using WalReader reader = database.Wal.OpenReader(create.Lsn);
        int vectorRecords = 0;
        while (reader.TryRead(out WalRecord walRecord))
        {
            Assert.Equal(WalRecordKind.Vector, walRecord.Kind);
            vectorRecords++;
        }

        Assert.Equal(4, vectorRecords);
    }

    [Fact]
    public async Task BadInput_ThrowsTypedErrors_AndLogsNothing()
    {
        using EdgeDatabase database = Open();
        await database.CreateVectorCollectionAsync("c", 4, VectorMetric.Cosine);
        long lastLsn = database.GetStats().LastLsn;

        Assert.Equal(EdgeErrorCode.VectorCollectionNotFound, (await Assert.ThrowsAsync<EdgeException>(async () => await database.UpsertVectorAsync("missing", "a", [1, 2, 3, 4], "k"))).Code);
        Assert.Equal(EdgeErrorCode.VectorCollectionMismatch, (await Assert.ThrowsAsync<EdgeException>(async () => await database.CreateVectorCollectionAsync("c", 5, VectorMetric.Cosine))).Code);
        EdgeException wrongLength = await Assert.ThrowsAsync<EdgeException>(async () => await database.UpsertVectorAsync("c", "a", [1, 2, 3], "k"));
        Assert.Equal(EdgeErrorCode.VectorInvalid, wrongLength.Code);
        Assert.Contains("dimension 4", wrongLength.Message, StringComparison.Ordinal);
        EdgeException nan = await Assert.ThrowsAsync<EdgeException>(async () => await database.UpsertVectorAsync("c", "a", [1, float.NaN, 3, 4], "k"));
        Assert.Contains("component 1", nan.Message, StringComparison.Ordinal);
        Assert.Equal(EdgeErrorCode.VectorInvalid, (await Assert.ThrowsAsync<EdgeException>(async () => await database.UpsertVectorAsync("c", "a", [0, 0, 0, 0], "k"))).Code);
        Assert.Equal(EdgeErrorCode.VectorInvalid, (await Assert.ThrowsAsync<EdgeException>(async () => await database.UpsertVectorAsync("c", "", [1, 2, 3, 4], "k"))).Code);
        Assert.Equal(EdgeErrorCode.VectorInvalid, (await Assert.ThrowsAsync<EdgeException>(async () => await database.CreateVectorCollectionAsync("d", 0))).Code);
        Assert.Equal(EdgeErrorCode.VectorCollectionNotFound, Assert.Throws<EdgeException>(() => database.SearchVectors("missing", [1, 2, 3, 4], 1)).Code);
        Assert.Equal(EdgeErrorCode.VectorInvalid, Assert.Throws<EdgeException>(() => database.SearchVectors("c", [1, 2], 1)).Code);
        Assert.Equal(lastLsn, database.GetStats().LastLsn);
        Assert.False(database.IsFaulted);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RandomOps_ReopenAfterCrashOrCheckpoint_ReturnsSameResults(bool crash)
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        const int dimension = 16;
        var model = new Dictionary<string, (float[] Vector, string Key)>(StringComparer.Ordinal);
        float[][] queries = Enumerable.Range(0, 10).Select(_ => RandomVector(random, dimension)).ToArray();
        EdgeDatabase database = Open();
        try
        {
            await database.CreateVectorCollectionAsync("v", dimension, VectorMetric.Cosine);
            for (int round = 0; round < 4; round++)
            {
                for (int op = 0; op < 300; op++)
                {
                    string id = "id" + random.Next(400).ToString(CultureInfo.InvariantCulture);
                    if (random.Next(6) == 0)
                    {
                        await database.DeleteVectorAsync("v", id);
                        model.Remove(id);
                    }
                    else
                    {
                        float[] vector = RandomVector(random, dimension);
                        string key = "doc/" + random.Next(50).ToString(CultureInfo.InvariantCulture);
                        await database.UpsertVectorAsync("v", id, vector, key);
                        model[id] = (vector, key);
                    }

                    if (random.Next(100) == 0)
                    {
                        await database.CheckpointAsync();
                    }
                }

                string before = Dump(database, queries);
                AssertMatchesModel(database, model, seed);
                if (crash)
                {
                    database.CloseWithoutCheckpoint();
                }
                else
                {
                    database.Dispose();
                }

                string vectorDirectory = Path.Combine(_directory.Path, EdgeDatabase.VectorDirectoryName);
                if (round == 1)
                {
                    // The float32 files are a projection: garbage in them must not reach results...
                    foreach (string file in Directory.GetFiles(vectorDirectory))
                    {
                        byte[] garbage = new byte[new FileInfo(file).Length];
                        random.NextBytes(garbage);
                        File.WriteAllBytes(file, garbage);
                    }
                }
                else if (round == 2)
                {
                    // ...and losing them must not lose data.
                    Directory.Delete(vectorDirectory, recursive: true);
                }

                database = Open();
                Assert.True(before == Dump(database, queries), $"seed {seed}, round {round}: search results differ after reopen");
                AssertMatchesModel(database, model, seed);
            }
        }
        finally
        {
            database.Dispose();
        }
    }

    [Theory]
    [InlineData("intact")]
    [InlineData("bit flip")]
    [InlineData("truncated")]
    [InlineData("missing")]
    [InlineData("crash while open")]
    public async Task Reopen_IndexFileIntactOrDamaged_MapsItOrRebuildsWithIdenticalResults(string damage)
    {
        int seed = TestRandom.Seed();
        var random = new Random(seed);
        const int dimension = 24;
        var model = new Dictionary<string, (float[] Vector, string Key)>(StringComparer.Ordinal);
        float[][] queries = Enumerable.Range(0, 10).Select(_ => RandomVector(random, dimension)).ToArray();
        EdgeDatabase database = Open();
        try
        {
            await database.CreateVectorCollectionAsync("v", dimension, VectorMetric.Cosine);
            for (int i = 0; i < 1500; i++)
            {
                string id = "id" + i.ToString(CultureInfo.InvariantCulture);
                float[] vector = RandomVector(random, dimension);
                await database.UpsertVectorAsync("v", id, vector, "doc/" + (i % 40).ToString(CultureInfo.InvariantCulture));
                model[id] = (vector, "doc/" + (i % 40).ToString(CultureInfo.InvariantCulture));
            }

            for (int i = 0; i < 1500; i += 7)
            {
                string id = "id" + i.ToString(CultureInfo.InvariantCulture);
                await database.DeleteVectorAsync("v", id);
                model.Remove(id);
            }

            string before = Dump(database, queries);
            database.Dispose();
            string indexFile = Assert.Single(Directory.GetFiles(Path.Combine(_directory.Path, EdgeDatabase.VectorDirectoryName), "*" + VectorCollection.IndexFileExtension));
            string? expectedProblem = null;
            switch (damage)
            {
                case "bit flip":
                    using (var stream = new FileStream(indexFile, FileMode.Open, FileAccess.ReadWrite))
                    {
                        stream.Position = stream.Length / 2;
                        int b = stream.ReadByte();
                        stream.Position = stream.Length / 2;
                        stream.WriteByte((byte)(b ^ 0x10));
                    }

                    expectedProblem = "CRC-32C";
                    break;
                case "truncated":
                    using (var stream = new FileStream(indexFile, FileMode.Open, FileAccess.ReadWrite))
                    {
                        stream.SetLength(stream.Length - 1000);
                    }

                    expectedProblem = "truncated";
                    break;
                case "missing":
                    File.Delete(indexFile);
                    expectedProblem = "missing";
                    break;
                case "crash while open":
                    // A session that changes the collection and dies leaves the float32 file marked open.
                    database = Open();
                    Assert.True(database.GetVectorCollectionStatistics("v").LoadedFromIndexFile, $"seed {seed}: clean reopen did not map the index file");
                    float[] extra = RandomVector(random, dimension);
                    await database.UpsertVectorAsync("v", "extra", extra, "doc/extra");
                    model["extra"] = (extra, "doc/extra");
                    before = Dump(database, queries);
                    database.CloseWithoutCheckpoint();
                    expectedProblem = "not closed";
                    break;
            }

            database = Open();
            VectorCollectionStatistics stats = database.GetVectorCollectionStatistics("v");
            if (expectedProblem is null)
            {
                Assert.True(stats.LoadedFromIndexFile && stats.IndexFileProblem is null, $"seed {seed}: intact index file not used ({stats.IndexFileProblem})");
            }
            else
            {
                Assert.False(stats.LoadedFromIndexFile, $"seed {seed}, {damage}: damaged index file was used");
                Assert.True(stats.IndexFileProblem?.Contains(expectedProblem, StringComparison.Ordinal) == true, $"seed {seed}, {damage}: reported problem '{stats.IndexFileProblem}'");
            }

            Assert.True(before == Dump(database, queries), $"seed {seed}, {damage}: search results differ after reopen");
            AssertMatchesModel(database, model, seed);

            // The rebuilt index is saved at the next clean close and mapped after it.
            database.Dispose();
            database = Open();
            Assert.True(database.GetVectorCollectionStatistics("v").LoadedFromIndexFile, $"seed {seed}, {damage}: index file not used after the rebuild was saved");
            Assert.True(before == Dump(database, queries), $"seed {seed}, {damage}: search results differ after the second reopen");
        }
        finally
        {
            database.Dispose();
        }
    }

    [Fact]
    public async Task Reopen_StateRestoredFromOlderBackup_IndexFilesNotTrustedAndRebuilt()
    {
        // The vectors/ folder outlives a restore of state.db and the WAL from an older backup: its
        // (intact, closed) index files describe newer writes and must not be used.
        string backup = _directory.Path + ".backup";
        try
        {
            EdgeDatabase database = Open();
            await database.CreateVectorCollectionAsync("v", 4, VectorMetric.L2);
            await database.UpsertVectorAsync("v", "old", [1, 2, 3, 4], "doc/old");
            await database.UpsertVectorAsync("v", "both", [1, 1, 1, 1], "doc/both");
            database.Dispose();
            CopyDirectory(_directory.Path, backup);

            database = Open();
            await database.UpsertVectorAsync("v", "new", [4, 3, 2, 1], "doc/new");
            await database.DeleteVectorAsync("v", "old");
            database.Dispose();

            foreach (string entry in Directory.GetFileSystemEntries(_directory.Path))
            {
                if (Path.GetFileName(entry) != EdgeDatabase.VectorDirectoryName)
                {
                    if (Directory.Exists(entry))
                    {
                        Directory.Delete(entry, recursive: true);
                    }
                    else
                    {
                        File.Delete(entry);
                    }
                }
            }

            foreach (string entry in Directory.GetFileSystemEntries(backup))
            {
                if (Path.GetFileName(entry) != EdgeDatabase.VectorDirectoryName)
                {
                    CopyEntry(entry, Path.Combine(_directory.Path, Path.GetFileName(entry)));
                }
            }

            using EdgeDatabase restored = Open();
            VectorCollectionStatistics stats = restored.GetVectorCollectionStatistics("v");
            Assert.False(stats.LoadedFromIndexFile);
            Assert.Contains("restored or replaced", stats.IndexFileProblem, StringComparison.Ordinal);
            Assert.Equal(2, stats.Count);
            Assert.NotNull(restored.GetVector("v", "old"));
            Assert.Null(restored.GetVector("v", "new"));
        }
        finally
        {
            if (Directory.Exists(backup))
            {
                Directory.Delete(backup, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Reopen_UnchangedCollectionAfterOtherWrites_StillMapsItsIndexFile()
    {
        // A session that writes only documents checkpoints past the LSN the index files were closed at;
        // the clean close records the new LSN, so the next open still maps them.
        using (EdgeDatabase database = Open())
        {
            await database.CreateVectorCollectionAsync("v", 4, VectorMetric.L2);
            await database.UpsertVectorAsync("v", "a", [1, 2, 3, 4], "doc/a");
        }

        using (EdgeDatabase database = Open())
        {
            Assert.True(database.GetVectorCollectionStatistics("v").LoadedFromIndexFile);
            await database.PutAsync("docs", "d1", "{\"x\":1}");
        }

        using EdgeDatabase reopened = Open();
        VectorCollectionStatistics stats = reopened.GetVectorCollectionStatistics("v");
        Assert.True(stats.LoadedFromIndexFile, stats.IndexFileProblem);
        Assert.Equal("a", reopened.SearchVectors("v", [1, 2, 3, 4], 1)[0].Id);
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string entry in Directory.GetFileSystemEntries(source))
        {
            CopyEntry(entry, Path.Combine(destination, Path.GetFileName(entry)));
        }
    }

    private static void CopyEntry(string source, string destination)
    {
        if (Directory.Exists(source))
        {
            CopyDirectory(source, destination);
        }
        else
        {
            File.Copy(source, destination, overwrite: true);
        }
    }

    [Fact]
    public async Task RemoteOps_LastWriterWinsByHlc_AndTombstonesHideOlderUpserts()
    {
        using EdgeDatabase database = Open();
        await database.CreateVectorCollectionAsync("v", 2, VectorMetric.L2);
        await database.UpsertVectorAsync("v", "a", [1, 1], "local");
        const ulong remote = 0xABCDEF;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        // An older remote upsert of "a" loses to the local write.
        Assert.Equal(RemoteApplyStatus.Applied, await ApplyRemote(database, remote, 1, now - 60_000, Upsert("v", "a", "stale", [9, 9])));
        Assert.Equal("local", database.GetVector("v", "a")!.DocumentKey);

        // A newer remote upsert wins; a newer remote delete removes it; an older upsert after that stays hidden.
        Assert.Equal(RemoteApplyStatus.Applied, await ApplyRemote(database, remote, 2, now + 1_000, Upsert("v", "a", "remote", [2, 2])));
        Assert.Equal("remote", database.GetVector("v", "a")!.DocumentKey);
        Assert.Equal(RemoteApplyStatus.Applied, await ApplyRemote(database, remote, 3, now + 2_000, Delete("v", "a")));
        Assert.Null(database.GetVector("v", "a"));
        Assert.Equal(RemoteApplyStatus.Applied, await ApplyRemote(database, remote, 4, now + 1_500, Upsert("v", "a", "late", [3, 3])));
        Assert.Null(database.GetVector("v", "a"));

        // A remote op with another shape is skipped, not fatal.
        Assert.Equal(RemoteApplyStatus.Applied, await ApplyRemote(database, remote, 5, now + 3_000, Upsert("v", "b", "wide", [1, 2, 3])));
        Assert.Null(database.GetVector("v", "b"));
        Assert.False(database.IsFaulted);

        // The same decisions survive a checkpoint and a reopen.
        await database.CheckpointAsync();
        database.Dispose();
        using EdgeDatabase reopened = Open();
        Assert.Null(reopened.GetVector("v", "a"));
        Assert.Null(reopened.GetVector("v", "b"));
        // The reopen mapped the index file, which carries the tombstone: an older upsert still stays hidden.
        Assert.True(reopened.GetVectorCollectionStatistics("v").LoadedFromIndexFile);
        Assert.Equal(RemoteApplyStatus.Applied, await ApplyRemote(reopened, remote, 6, now + 1_800, Upsert("v", "a", "later-late", [5, 5])));
        Assert.Null(reopened.GetVector("v", "a"));
        // The clock has observed the remote HLCs, so a local write issued after them wins over the tombstone.
        await reopened.UpsertVectorAsync("v", "a", [4, 4], "after");
        Assert.Equal("after", reopened.GetVector("v", "a")!.DocumentKey);
    }

    [Fact]
    public async Task RemoteUpsert_ForUnknownCollection_CreatesIt()
    {
        using EdgeDatabase database = Open();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal(RemoteApplyStatus.Applied, await ApplyRemote(database, 77, 1, now, Upsert("synced", "x", "doc/x", [0.5f, 0.5f])));
        Assert.Equal(["synced"], database.GetVectorCollectionNames());
        Assert.Equal("x", database.SearchVectors("synced", [1, 1], 1)[0].Id);
    }

    [Fact]
    public async Task SearchVectors_DocumentFieldFilter_ReturnsOnlyMatchingDocuments()
    {
        using EdgeDatabase database = Open();
        await database.CreateVectorCollectionAsync("emb", 4, VectorMetric.Cosine);
        var random = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            string key = "item" + i.ToString(CultureInfo.InvariantCulture);
            await database.PutAsync("items", key, $"{{\"kind\":\"{(i % 4 == 0 ? "pump" : "fan")}\",\"n\":{i}}}");
            await database.UpsertVectorAsync("emb", "v" + i.ToString(CultureInfo.InvariantCulture), RandomVector(random, 4), key);
        }

        await database.UpsertVectorAsync("emb", "orphan", [1, 1, 1, 1], "no-such-document");
        VectorMatch[] pumps = database.SearchVectors("emb", [1, 1, 1, 1], 10, "items", [DocumentFilter.Equal("kind", "\"pump\"")]);
        Assert.Equal(10, pumps.Length);
        Assert.All(pumps, m => Assert.Equal(0, int.Parse(m.DocumentKey.AsSpan(4), CultureInfo.InvariantCulture) % 4));
        Assert.DoesNotContain(pumps, m => m.Id == "orphan");

        VectorMatch[] narrowed = database.SearchVectors("emb", [1, 1, 1, 1], 10, "items", [DocumentFilter.Equal("kind", "\"fan\"")],
            new VectorSearchOptions { KeyPrefix = "item1" });
        Assert.NotEmpty(narrowed);
        Assert.All(narrowed, m => Assert.True(m.DocumentKey.StartsWith("item1", StringComparison.Ordinal) && int.Parse(m.DocumentKey.AsSpan(4), CultureInfo.InvariantCulture) % 4 != 0, m.DocumentKey));
    }

    private static void AssertMatchesModel(EdgeDatabase database, Dictionary<string, (float[] Vector, string Key)> model, int seed)
    {
        Assert.True(model.Count == database.GetVectorCollectionStatistics("v").Count, $"seed {seed}: count differs from the model");
        foreach ((string id, (float[] vector, string key)) in model)
        {
            VectorRecord? record = database.GetVector("v", id);
            Assert.True(record is not null && record.DocumentKey == key && record.Vector.SequenceEqual(vector), $"seed {seed}: vector {id} differs from the model");
        }
    }

    private static string Dump(EdgeDatabase database, float[][] queries) =>
        string.Join("\n", queries.Select(q => string.Join(",", database.SearchVectors("v", q, 10).Select(m => $"{m.Id}:{m.DocumentKey}:{m.Distance:R}"))));

    private static float[] RandomVector(Random random, int dimension) =>
        Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() - 0.3)).ToArray();

    private static byte[] Upsert(string collection, string id, string key, float[] vector)
    {
        var buffer = new ArrayBufferWriter<byte>();
        VectorCodec.EncodeUpsert(buffer, collection, id, key, VectorMetric.L2, vector);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Delete(string collection, string id)
    {
        var buffer = new ArrayBufferWriter<byte>();
        VectorCodec.EncodeDelete(buffer, collection, id);
        return buffer.WrittenSpan.ToArray();
    }

    private static async Task<RemoteApplyStatus> ApplyRemote(EdgeDatabase database, ulong replica, ulong sequence, long milliseconds, byte[] body) =>
        await database.ApplyRemoteAsync(WalRecordKind.Vector, new OperationHeader(sequence, HlcTimestamp.Create(milliseconds, 0, replica)), body);
}
