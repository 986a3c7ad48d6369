using CortexEdge.Core.Documents;
using CortexEdge.Core.State;
using CortexEdge.Core.Tests.Clocks;
using CortexEdge.Core.Tests.Wal;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.Tests;

/// <summary>Document fields declared as counters, sets and multi-value registers, on two replicas exchanging ops.</summary>
public sealed class EdgeDatabaseCrdtFieldsTests : IDisposable
{
    private const long StartMilliseconds = 1_800_000_000_000;

    private static readonly CollectionSchema Devices = new("devices", new Dictionary<string, DocumentFieldType>
    {
        ["events"] = DocumentFieldType.GCounter,
        ["level"] = DocumentFieldType.PnCounter,
        ["tags"] = DocumentFieldType.AddWinsSet,
        ["shopping"] = DocumentFieldType.OrSet,
        ["ack"] = DocumentFieldType.MvRegister,
    });

    private readonly WalTestDirectory _directoryA = new();
    private readonly WalTestDirectory _directoryB = new();
    private readonly ManualTimeProvider _clockA = new(StartMilliseconds);
    private readonly ManualTimeProvider _clockB = new(StartMilliseconds);

    public void Dispose()
    {
        _directoryA.Dispose();
        _directoryB.Dispose();
    }

    private static EdgeDatabase Open(WalTestDirectory directory, ManualTimeProvider clock)
    {
        EdgeDatabase database = EdgeDatabase.Open(directory.Path, new EdgeDatabaseOptions
        {
            Durability = WalDurability.None,
            CheckpointInterval = TimeSpan.FromHours(1),
            CheckpointRecordCount = int.MaxValue,
            TimeProvider = clock,
        });
        database.DeclareCollection(Devices);
        return database;
    }

    private EdgeDatabase OpenA() => Open(_directoryA, _clockA);

    private EdgeDatabase OpenB() => Open(_directoryB, _clockB);

    private static string? Json(EdgeDatabase database, string key) => database.Get("devices", key)?.ToJsonString();

    /// <summary>Applies every document op of <paramref name="from"/> that <paramref name="to"/> lacks (as sync would), in origin order.</summary>
    private static async Task ShipAsync(EdgeDatabase from, EdgeDatabase to)
    {
        var ops = new List<(OperationHeader Header, byte[] Body)>();
        using (WalReader reader = from.Wal.OpenReader(1))
        {
            while (reader.TryRead(out WalRecord record))
            {
                if (record.Kind == WalRecordKind.Document)
                {
                    StateRecord op = EdgeDatabase.ToStateRecord(record.Lsn, record.Kind, record.Payload);
                    if (op.Header.OriginReplicaId != to.ReplicaId)
                    {
                        ops.Add((op.Header, op.Body.ToArray()));
                    }
                }
            }
        }

        foreach ((OperationHeader header, byte[] body) in ops)
        {
            RemoteApplyStatus status = await to.ApplyRemoteAsync(WalRecordKind.Document, header, body);
            Assert.NotEqual(RemoteApplyStatus.Gap, status);
        }
    }

    private static async Task ExchangeAsync(EdgeDatabase a, EdgeDatabase b)
    {
        await ShipAsync(a, b);
        await ShipAsync(b, a);
    }

    [Fact]
    public async Task Increment_ConcurrentOnBothReplicasAndThreads_NeverLosesAnIncrement()
    {
        using EdgeDatabase a = OpenA();
        using EdgeDatabase b = OpenB();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 50; i++)
            {
                await a.IncrementAsync("devices", "pump", "events", 1);
            }
        })));
        await b.IncrementAsync("devices", "pump", "events", 7);
        await b.IncrementAsync("devices", "pump", "level", -3);

        await ExchangeAsync(a, b);

        Assert.Equal("{\"events\":207,\"level\":-3}", Json(a, "pump"));
        Assert.Equal(Json(a, "pump"), Json(b, "pump"));
    }

    [Fact]
    public async Task ConcurrentEdits_DifferentFields_BothSurvive()
    {
        using EdgeDatabase a = OpenA();
        using EdgeDatabase b = OpenB();
        await a.PatchAsync("devices", "gw", "{\"interval\":30}");
        await b.PatchAsync("devices", "gw", "{\"threshold\":4.5}");
        await b.AddToSetAsync("devices", "gw", "tags", "\"roof\"");
        await ExchangeAsync(a, b);
        Assert.Equal("{\"interval\":30,\"tags\":[\"roof\"],\"threshold\":4.5}", Json(a, "gw"));
        Assert.Equal(Json(a, "gw"), Json(b, "gw"));
    }

    [Fact]
    public async Task ConcurrentEdits_OneLwwField_SameWinnerEverywhereAndOneDiscardCounted()
    {
        using EdgeDatabase a = OpenA();
        using EdgeDatabase b = OpenB();
        await a.PatchAsync("devices", "gw", "{\"mode\":\"eco\"}");
        _clockB.UnixMilliseconds += 5; // B writes later in HLC order: B's value wins
        await b.PatchAsync("devices", "gw", "{\"mode\":\"turbo\"}");
        await ExchangeAsync(a, b);

        Assert.Equal("{\"mode\":\"turbo\"}", Json(a, "gw"));
        Assert.Equal(Json(a, "gw"), Json(b, "gw"));
        // The winner's replica sees the older write arrive and drops it; the loser's replica is overwritten.
        long discardedA = a.GetStats().Conflicts.GetValueOrDefault("devices").DiscardedWrites;
        long discardedB = b.GetStats().Conflicts["devices"].DiscardedWrites;
        Assert.Equal(0, discardedA);
        Assert.Equal(1, discardedB);
        Assert.Equal(1, b.GetStats().Conflicts["devices"].RemoteOperations);
    }

    [Fact]
    public async Task ConflictCounts_PersistWithCheckpoint_AndReplayCountsEachOpOnce()
    {
        using EdgeDatabase a = OpenA();
        await a.PatchAsync("devices", "gw", "{\"mode\":\"eco\",\"fan\":1}");
        await a.WriteRegisterAsync("devices", "gw", "ack", "\"a\"");
        _clockB.UnixMilliseconds += 5;
        EdgeDatabase b = OpenB();
        try
        {
            await b.PatchAsync("devices", "gw", "{\"mode\":\"turbo\"}");
            await ShipAsync(a, b); // "mode" arrives older: discarded
            await b.CheckpointAsync();
            _clockB.UnixMilliseconds += 5;
            await b.PatchAsync("devices", "gw2", "{\"fan\":3}");
            await a.PatchAsync("devices", "gw2", "{\"fan\":2}");
            await a.WriteRegisterAsync("devices", "gw2", "ack", "\"x\"");
            await b.WriteRegisterAsync("devices", "gw2", "ack", "\"y\"");
            await ShipAsync(a, b); // one more discard and one sibling, not yet checkpointed
            Assert.Equal(new CollectionConflictStats(2, 1, 4), b.GetStats().Conflicts["devices"]);
        }
        finally
        {
            b.CloseWithoutCheckpoint();
        }

        using (EdgeDatabase reopened = OpenB())
        {
            Assert.True(reopened.GetStats().ReplayedRecordCount > 0);
            Assert.Equal(new CollectionConflictStats(2, 1, 4), reopened.GetStats().Conflicts["devices"]);
            await reopened.CheckpointAsync();
        }

        using EdgeDatabase again = OpenB();
        Assert.Equal(new CollectionConflictStats(2, 1, 4), again.GetStats().Conflicts["devices"]);
    }

    [Fact]
    public async Task SequentialEdits_OneLwwField_CountNoConflict()
    {
        using EdgeDatabase a = OpenA();
        using EdgeDatabase b = OpenB();
        await a.PatchAsync("devices", "gw", "{\"mode\":\"eco\"}");
        await ShipAsync(a, b);
        await b.PatchAsync("devices", "gw", "{\"mode\":\"turbo\"}");
        await ShipAsync(b, a);
        Assert.Equal("{\"mode\":\"turbo\"}", Json(a, "gw"));
        Assert.Equal(0, a.GetStats().Conflicts["devices"].DiscardedWrites);
        Assert.Equal(0, b.GetStats().Conflicts["devices"].DiscardedWrites);
    }

    [Fact]
    public async Task Sets_AddConcurrentWithRemove_AddWins_ForBothSetTypes()
    {
        using EdgeDatabase a = OpenA();
        using EdgeDatabase b = OpenB();
        await a.AddToSetAsync("devices", "list", "shopping", "\"milk\"");
        await a.AddToSetAsync("devices", "list", "tags", "{\"x\": 1}");
        await ExchangeAsync(a, b);

        await a.RemoveFromSetAsync("devices", "list", "shopping", "\"milk\"");
        await a.RemoveFromSetAsync("devices", "list", "tags", "{\"x\":1}");
        await b.AddToSetAsync("devices", "list", "shopping", "\"milk\"");
        await b.AddToSetAsync("devices", "list", "tags", "{\"x\":1}");
        await a.AddToSetAsync("devices", "list", "shopping", "\"eggs\"");
        await ExchangeAsync(a, b);

        Assert.Equal("{\"shopping\":[\"eggs\",\"milk\"],\"tags\":[{\"x\":1}]}", Json(a, "list"));
        Assert.Equal(Json(a, "list"), Json(b, "list"));
    }

    [Fact]
    public async Task MultiValue_ConcurrentWrites_KeepSiblingsUntilResolved()
    {
        using EdgeDatabase a = OpenA();
        using EdgeDatabase b = OpenB();
        await a.WriteRegisterAsync("devices", "alarm-7", "ack", "\"alice\"");
        await b.WriteRegisterAsync("devices", "alarm-7", "ack", "\"bob\"");
        await ExchangeAsync(a, b);

        Assert.Equal(["\"alice\"", "\"bob\""], a.GetSiblings("devices", "alarm-7", "ack").Order(StringComparer.Ordinal));
        Assert.Equal(a.GetSiblings("devices", "alarm-7", "ack").Order(StringComparer.Ordinal), b.GetSiblings("devices", "alarm-7", "ack").Order(StringComparer.Ordinal));
        Assert.Equal(1, a.GetStats().Conflicts["devices"].SiblingsCreated);
        Assert.Equal(1, b.GetStats().Conflicts["devices"].SiblingsCreated);
        Assert.Equal(Json(a, "alarm-7"), Json(b, "alarm-7"));

        await b.WriteRegisterAsync("devices", "alarm-7", "ack", "\"alice+bob\"");
        await ExchangeAsync(a, b);
        Assert.Equal(["\"alice+bob\""], a.GetSiblings("devices", "alarm-7", "ack"));
        Assert.Equal("{\"ack\":\"alice+bob\"}", Json(a, "alarm-7"));
    }

    [Fact]
    public async Task Delete_ConcurrentWithWrites_ResetsObservedStateAndKeepsConcurrentUpdates()
    {
        using EdgeDatabase a = OpenA();
        using EdgeDatabase b = OpenB();
        await a.PatchAsync("devices", "pump", "{\"name\":\"p1\"}");
        await a.IncrementAsync("devices", "pump", "events", 5);
        await a.AddToSetAsync("devices", "pump", "tags", "\"old\"");
        await ExchangeAsync(a, b);

        _clockA.UnixMilliseconds += 10;
        await a.DeleteAsync("devices", "pump");
        Assert.Null(Json(a, "pump"));

        // Concurrently on B (not having seen the delete): one write older than it, one newer.
        _clockB.UnixMilliseconds += 5;
        await b.PatchAsync("devices", "pump", "{\"before\":1}");
        await b.IncrementAsync("devices", "pump", "events", 2);
        await b.AddToSetAsync("devices", "pump", "tags", "\"new\"");
        _clockB.UnixMilliseconds += 10;
        await b.PatchAsync("devices", "pump", "{\"after\":2}");
        await ExchangeAsync(a, b);

        // LWW fields: the delete's HLC wins over older writes. CRDT fields: what A observed is gone,
        // B's concurrent increment and add survive.
        Assert.Equal("{\"after\":2,\"events\":2,\"tags\":[\"new\"]}", Json(a, "pump"));
        Assert.Equal(Json(a, "pump"), Json(b, "pump"));
        Assert.Equal(1, a.GetStats().Conflicts["devices"].DiscardedWrites); // B's "before" lost to the delete
    }

    [Fact]
    public async Task Delete_WithNoConcurrentWrite_RemovesEverythingEverywhere()
    {
        using EdgeDatabase a = OpenA();
        using EdgeDatabase b = OpenB();
        await a.IncrementAsync("devices", "d", "level", 4);
        await a.WriteRegisterAsync("devices", "d", "ack", "true");
        await a.AddToSetAsync("devices", "d", "shopping", "1");
        await ShipAsync(a, b);
        await b.DeleteAsync("devices", "d");
        await ExchangeAsync(a, b);
        Assert.Null(Json(a, "d"));
        Assert.Null(Json(b, "d"));
        Assert.Empty(a.GetSiblings("devices", "d", "ack"));

        await a.IncrementAsync("devices", "d", "level", 1);
        Assert.Equal("{\"level\":1}", Json(a, "d")); // a fresh counter, not 5
    }

    [Fact]
    public async Task CrdtFields_SurviveCheckpointAndReopen()
    {
        string before;
        using (EdgeDatabase a = OpenA())
        {
            await a.IncrementAsync("devices", "k", "events", 3);
            await a.AddToSetAsync("devices", "k", "tags", "\"t\"");
            await a.PatchAsync("devices", "k", "{\"name\":\"n\"}");
            await a.CheckpointAsync();
            await a.IncrementAsync("devices", "k", "events", 1);
            await a.WriteRegisterAsync("devices", "k", "ack", "[1,2]");
            before = Json(a, "k")!;
            Assert.Equal("{\"ack\":[1,2],\"events\":4,\"name\":\"n\",\"tags\":[\"t\"]}", before);
            await a.CheckpointAsync();
            Assert.Equal(before, Json(a, "k"));
            Assert.Equal(before, EdgeDatabaseDocumentsTests.Dump(a, "devices")[2..]);
        }

        using EdgeDatabase reopened = OpenA();
        Assert.Equal(before, Json(reopened, "k"));
        await reopened.IncrementAsync("devices", "k", "events", 1);
        Assert.Contains("\"events\":5", Json(reopened, "k"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongOperationForDeclaredType_IsRejectedWithTypeMismatch()
    {
        using EdgeDatabase a = OpenA();
        var put = await Assert.ThrowsAsync<EdgeException>(() => a.PutAsync("devices", "x", "{\"events\":3}").AsTask());
        Assert.Equal(EdgeErrorCode.CrdtFieldTypeMismatch, put.Code);
        Assert.Contains("IncrementAsync", put.Message, StringComparison.Ordinal);

        var add = await Assert.ThrowsAsync<EdgeException>(() => a.AddToSetAsync("devices", "x", "events", "1").AsTask());
        Assert.Equal(EdgeErrorCode.CrdtFieldTypeMismatch, add.Code);
        var lww = await Assert.ThrowsAsync<EdgeException>(() => a.IncrementAsync("devices", "x", "name", 1).AsTask());
        Assert.Equal(EdgeErrorCode.CrdtFieldTypeMismatch, lww.Code);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => a.IncrementAsync("devices", "x", "events", -1).AsTask());
        var json = await Assert.ThrowsAsync<EdgeException>(() => a.AddToSetAsync("devices", "x", "tags", "not json").AsTask());
        Assert.Equal(EdgeErrorCode.DocumentInvalid, json.Code);

        var redeclare = Assert.Throws<EdgeException>(() => a.DeclareCollection(new CollectionSchema("devices", new Dictionary<string, DocumentFieldType> { ["events"] = DocumentFieldType.PnCounter })));
        Assert.Equal(EdgeErrorCode.CrdtFieldTypeMismatch, redeclare.Code);
        a.DeclareCollection(new CollectionSchema("devices", Devices.Fields));
        Assert.Null(Json(a, "x"));
    }
}
