using System.Text.Json;
using CortexEdge.Core.Documents;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests;

public sealed class EdgeDatabaseDocumentsTests : IDisposable
{
    private readonly WalTestDirectory _directory = new();

    // A long interval and a high trigger: nothing is checkpointed unless a test asks.
    private EdgeDatabase Open(WalDurability? durability = null) => EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions
    {
        Durability = durability ?? WalDurability.None,
        CheckpointInterval = TimeSpan.FromHours(1),
        CheckpointRecordCount = int.MaxValue,
    });

    public void Dispose() => _directory.Dispose();

    private static string? Json(EdgeDatabase database, string collection, string key) => database.Get(collection, key)?.ToJsonString();

    [Fact]
    public async Task PutGetPatchDelete_ReadYourWritesBeforeAnyCheckpoint()
    {
        using EdgeDatabase database = Open();
        WriteReceipt put = await database.PutAsync("sensors", "s1", "{\"temp\":21.5,\"room\":\"kitchen\"}");
        Assert.Equal(0, database.GetStats().CheckpointLsn);
        Assert.Equal("{\"room\":\"kitchen\",\"temp\":21.5}", Json(database, "sensors", "s1"));
        Assert.Equal(database.ReplicaId, put.Header.OriginReplicaId);
        Assert.Equal(1UL, put.Header.OriginSequence);

        WriteReceipt patch = await database.PatchAsync("sensors", "s1", "{\"temp\":22,\"room\":null,\"on\":true}");
        Assert.Equal(put.Lsn + 1, patch.Lsn);
        Assert.Equal(2UL, patch.Header.OriginSequence);
        Assert.True(patch.Header.Timestamp > put.Header.Timestamp);
        Assert.Equal("{\"on\":true,\"temp\":22}", Json(database, "sensors", "s1"));

        await database.PutAsync("sensors", "s1", "{\"only\":1}");
        Assert.Equal("{\"only\":1}", Json(database, "sensors", "s1"));
        await database.DeleteAsync("sensors", "s1");
        Assert.Null(database.Get("sensors", "s1"));
        Assert.False(database.TryGet("sensors", "s1", out _));
        Assert.Null(database.Get("other", "s1"));
        Assert.Equal(0, database.GetStats().CheckpointLsn);
    }

    [Fact]
    public async Task Reads_AreTheSame_BeforeCheckpoint_AfterCheckpoint_AndAfterReopen()
    {
        string[] snapshots = new string[3];
        using (EdgeDatabase database = Open())
        {
            await database.PutAsync("c", "a", "{\"x\":1}");
            await database.PutAsync("c", "b", "{\"x\":2}");
            await database.CheckpointAsync();
            await database.PatchAsync("c", "a", "{\"y\":\"overlay over sqlite\"}");
            await database.DeleteAsync("c", "b");
            await database.PutAsync("c", "c", "{\"x\":3}");
            snapshots[0] = Dump(database);
            await database.CheckpointAsync();
            Assert.Equal(0, database.GetStats().OverlayDocumentCount);
            snapshots[1] = Dump(database);
        }

        using (EdgeDatabase reopened = Open())
        {
            snapshots[2] = Dump(reopened);
            Assert.Equal(0, reopened.GetStats().ReplayedRecordCount);
        }

        Assert.Equal("a={\"x\":1,\"y\":\"overlay over sqlite\"};c={\"x\":3}", snapshots[0]);
        Assert.Equal(snapshots[0], snapshots[1]);
        Assert.Equal(snapshots[0], snapshots[2]);
    }

    internal static string Dump(EdgeDatabase database, string collection = "c") =>
        string.Join(";", database.Scan(collection).Select(d => $"{d.Key}={d.ToJsonString()}"));

    [Fact]
    public async Task Scan_ByPrefix_MergesOverlayAndSqliteInKeyOrder()
    {
        using EdgeDatabase database = Open();
        foreach (string key in new[] { "room/2", "room/10", "hall/1", "room/1" })
        {
            await database.PutAsync("c", key, $"{{\"k\":\"{key}\"}}");
        }

        await database.CheckpointAsync();
        await database.PutAsync("c", "room/15", "{\"k\":\"room/15\"}"); // overlay only
        await database.PatchAsync("c", "room/2", "{\"p\":1}");       // overlay over SQLite
        await database.DeleteAsync("c", "room/10");                   // tombstone in overlay
        await database.PutAsync("c", "room\uFFFF", "{}");             // BMP above surrogates
        await database.PutAsync("c", "room\U0001F600", "{}");         // surrogate pair: code point order puts it last

        Assert.Equal(["room/1", "room/15", "room/2", "room\uFFFF", "room\U0001F600"], database.Scan("c", new DocumentQuery { KeyPrefix = "room" }).Select(d => d.Key));
        Assert.Equal(["hall/1"], database.Scan("c", new DocumentQuery { KeyPrefix = "hall/" }).Select(d => d.Key));
        Assert.Equal(["hall/1", "room/1"], database.Scan("c", new DocumentQuery { Limit = 2 }).Select(d => d.Key));
        Assert.Empty(database.Scan("c", new DocumentQuery { KeyPrefix = "zzz" }));
        Assert.Equal("{\"k\":\"room/2\",\"p\":1}", database.Scan("c", new DocumentQuery { KeyPrefix = "room/2" }).Single().ToJsonString());
    }

    [Fact]
    public async Task Scan_FiltersByEqualityAndRange()
    {
        using EdgeDatabase database = Open();
        await database.PutAsync("s", "a", "{\"temp\":18,\"room\":\"hall\",\"on\":true}");
        await database.PutAsync("s", "b", "{\"temp\":21.5,\"room\":\"kitchen\",\"on\":false}");
        await database.CheckpointAsync();
        await database.PutAsync("s", "c", "{\"temp\":25,\"room\":\"kitchen\"}");
        await database.PutAsync("s", "d", "{\"temp\":\"warm\",\"room\":\"attic\"}");

        string[] Keys(params DocumentFilter[] filters) => [.. database.Scan("s", new DocumentQuery { Filters = filters }).Select(d => d.Key)];

        Assert.Equal(["b", "c"], Keys(DocumentFilter.Equal("room", "\"kitchen\"")));
        Assert.Equal(["b", "c"], Keys(DocumentFilter.Create("temp", DocumentFilterOperator.GreaterThanOrEqual, "21.5")));
        Assert.Equal(["a"], Keys(DocumentFilter.Create("temp", DocumentFilterOperator.LessThan, "21.5")));
        Assert.Equal(["c"], Keys(DocumentFilter.Create("temp", DocumentFilterOperator.GreaterThan, "21.5"), DocumentFilter.Equal("room", "\"kitchen\"")));
        Assert.Equal(["b"], Keys(DocumentFilter.Equal("on", "false")));
        Assert.Equal(["a", "d"], Keys(DocumentFilter.Create("room", DocumentFilterOperator.NotEqual, "\"kitchen\"")));
        Assert.Equal(["d"], Keys(DocumentFilter.Create("temp", DocumentFilterOperator.GreaterThan, "\"a\"")));
        Assert.Equal(["a"], Keys(DocumentFilter.Equal("temp", "18.0"))); // numbers compare numerically
        Assert.Equal(EdgeErrorCode.QueryInvalid, Assert.Throws<EdgeException>(() => DocumentFilter.Create("on", DocumentFilterOperator.LessThan, "true")).Code);
        Assert.Equal(EdgeErrorCode.QueryInvalid, Assert.Throws<EdgeException>(() => DocumentFilter.Equal("on", "not json")).Code);
    }

    [Fact]
    public async Task ChangeFeed_ReturnsDocumentOpsInLsnOrder_FromAnyLsn()
    {
        using EdgeDatabase database = Open();
        WriteReceipt first = await database.PutAsync("c", "a", "{\"v\":1}");
        await database.PatchAsync("c", "a", "{\"v\":2}");
        WriteReceipt third = await database.DeleteAsync("c", "a");
        DocumentChange[] all = [.. database.ReadChanges(first.Lsn)];
        Assert.Equal([DocumentOperationKind.Put, DocumentOperationKind.Patch, DocumentOperationKind.Delete], all.Select(c => c.Operation.Kind));
        Assert.Equal([1UL, 2UL, 3UL], all.Select(c => c.Header.OriginSequence));
        Assert.Equal(third.Lsn, database.ReadChanges(third.Lsn).Single().Lsn);
        Assert.Single(database.ReadChanges(first.Lsn, maxCount: 1));
        Assert.Empty(database.ReadChanges(third.Lsn + 1));
    }

    [Fact]
    public async Task InvalidInput_GivesTypedErrors_AndWritesNothing()
    {
        using EdgeDatabase database = Open();
        Assert.Equal(EdgeErrorCode.DocumentInvalid, (await Assert.ThrowsAsync<EdgeException>(() => database.PutAsync("c", "k", "{bad").AsTask())).Code);
        Assert.Equal(EdgeErrorCode.DocumentInvalid, (await Assert.ThrowsAsync<EdgeException>(() => database.PutAsync("c", "k", "[1,2]").AsTask())).Code);
        Assert.Equal(EdgeErrorCode.DocumentKeyInvalid, (await Assert.ThrowsAsync<EdgeException>(() => database.PutAsync("c", "", "{}").AsTask())).Code);
        Assert.Equal(EdgeErrorCode.DocumentKeyInvalid, Assert.Throws<EdgeException>(() => database.Get("", "k")).Code);
        Assert.Equal(0, database.GetStats().LastLsn);
        Assert.Equal(0UL, database.GetStats().OriginSequence);
    }

    [Fact]
    public async Task Identity_ReplicaIdAndOriginSequence_SurviveReopen()
    {
        ulong replicaId;
        using (EdgeDatabase database = Open())
        {
            replicaId = database.ReplicaId;
            Assert.NotEqual(0UL, replicaId);
            await database.PutAsync("c", "a", "{}");
            await database.PutAsync("c", "b", "{}");
        }

        using (EdgeDatabase database = Open())
        {
            Assert.Equal(replicaId, database.ReplicaId);
            WriteReceipt next = await database.PutAsync("c", "c", "{}");
            Assert.Equal(3UL, next.Header.OriginSequence);
            Assert.Equal(3UL, database.GetVersionVector()[replicaId]);
        }
    }

    [Fact]
    public async Task Clock_AfterReopenWithWallClockBehind_StillIssuesLaterTimestamps()
    {
        var time = new Clocks.ManualTimeProvider(1_800_000_000_000);
        WriteReceipt before;
        using (EdgeDatabase database = EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions { Durability = WalDurability.None, TimeProvider = time }))
        {
            before = await database.PutAsync("c", "a", "{}");
        }

        time.UnixMilliseconds -= 3_600_000; // the board booted without RTC: an hour behind
        using (EdgeDatabase database = EdgeDatabase.Open(_directory.Path, new EdgeDatabaseOptions { Durability = WalDurability.None, TimeProvider = time }))
        {
            WriteReceipt after = await database.PutAsync("c", "a", "{\"later\":true}");
            Assert.True(after.Header.Timestamp > before.Header.Timestamp, $"{after.Header.Timestamp} must be after {before.Header.Timestamp}");
            Assert.Equal("{\"later\":true}", database.Get("c", "a")!.ToJsonString()); // LWW keeps the later write
        }
    }

    [Fact]
    public async Task ApplyRemote_AppliesOnceInOriginOrder_RejectsGapsAndSkew()
    {
        using var otherDirectory = new WalTestDirectory();
        using EdgeDatabase source = EdgeDatabase.Open(otherDirectory.Path, new EdgeDatabaseOptions { Durability = WalDurability.None });
        await source.PutAsync("c", "k", "{\"from\":\"source\"}");
        await source.PatchAsync("c", "k", "{\"n\":2}");
        DocumentChange[] changes = [.. source.ReadChanges(1)];

        using EdgeDatabase target = Open();
        byte[] Body(DocumentChange change)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using JsonDocument fields = JsonDocument.Parse("{" + string.Join(",", change.Operation.Fields.Select(f => $"\"{f.Name}\":{System.Text.Encoding.UTF8.GetString(f.Utf8JsonValue.Span)}")) + "}");
            DocumentCodec.EncodeFromJson(buffer, change.Operation.Kind, change.Operation.Collection, change.Operation.Key, fields.RootElement);
            return buffer.WrittenSpan.ToArray();
        }

        Assert.Equal(RemoteApplyStatus.Gap, await target.ApplyRemoteAsync(WalRecordKind.Document, changes[1].Header, Body(changes[1])));
        Assert.Equal(RemoteApplyStatus.Applied, await target.ApplyRemoteAsync(WalRecordKind.Document, changes[0].Header, Body(changes[0])));
        Assert.Equal(RemoteApplyStatus.Duplicate, await target.ApplyRemoteAsync(WalRecordKind.Document, changes[0].Header, Body(changes[0])));
        Assert.Equal(RemoteApplyStatus.Applied, await target.ApplyRemoteAsync(WalRecordKind.Document, changes[1].Header, Body(changes[1])));
        Assert.Equal("{\"from\":\"source\",\"n\":2}", target.Get("c", "k")!.ToJsonString());
        Assert.Equal(2UL, target.GetVersionVector()[source.ReplicaId]);

        var malformed = await Assert.ThrowsAsync<EdgeException>(() => target.ApplyRemoteAsync(WalRecordKind.Document, new Core.State.OperationHeader(3, changes[1].Header.Timestamp), new byte[] { 1, 9, 9 }).AsTask());
        Assert.Equal(EdgeErrorCode.DocumentMalformed, malformed.Code);
        Assert.IsNotType<EdgeCorruptionException>(malformed);
        Assert.False(target.IsFaulted);
        long lastLsn = target.GetStats().LastLsn;

        var future = new Core.State.OperationHeader(3, Core.Clocks.HlcTimestamp.Create(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 120_000, 0, source.ReplicaId));
        var skew = await Assert.ThrowsAsync<EdgeException>(() => target.ApplyRemoteAsync(WalRecordKind.Document, future, Body(changes[1])).AsTask());
        Assert.Equal(EdgeErrorCode.ClockSkew, skew.Code);
        Assert.Equal(1, target.GetStats().ClockSkewRejectionCount);
        Assert.Equal(lastLsn, target.GetStats().LastLsn); // neither the malformed nor the skewed op was appended
    }
}
