using CortexEdge.Core;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Sync;

/// <summary>
/// Priority over a real database: the store tells priority collections and series from the rest,
/// and <see cref="SyncScope.PriorityOnly"/> sends exactly those plus the ordinary ops before them in
/// origin order (the exactly-once rule), nothing after.
/// </summary>
public sealed class EdgeDatabasePrioritySyncTests : IAsyncLifetime
{
    private const string Fleet = "prio";
    private static readonly SyncSessionOptions Options = new() { SnapshotNewNodes = false };
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-dbprio-" + Guid.NewGuid().ToString("N")[..12]);
    private MosquittoBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await MosquittoBroker.StartAsync();

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private static bool IsPriority(string name) => name == "alarms" || name.StartsWith("alarm.", StringComparison.Ordinal);

    [Fact]
    public async Task Backlog_SplitsPriorityCollectionsAndSeries_AndOpsCarryThePriorityFlag()
    {
        using EdgeDatabase db = Open("split");
        await db.AppendAsync("temp.1", 1_000, 20.5);                       // seq 1 normal
        await db.PutAsync("alarms", "a1", """{"level":3}""");                // seq 2 priority
        await db.AppendAsync("alarm.door", 2_000, 1);                      // seq 3 priority
        await db.PutAsync("readings", "r1", """{"v":1}""");                // seq 4 normal
        await db.FlushAsync();

        var store = new EdgeDatabaseSyncStore(db, IsPriority);
        SyncBacklog backlog = store.GetBacklog(0, DateTimeOffset.UtcNow);
        Assert.Equal((2, 3L), (backlog.Priority.Ops, backlog.Priority.HighestSeq));
        Assert.Equal((2, 4L), (backlog.Normal.Ops, backlog.Normal.HighestSeq));
        Assert.True(backlog.Priority.Bytes > 0 && backlog.Normal.Bytes > 0);

        var ops = new List<SyncOp>();
        store.ReadOwnOps(0, long.MaxValue, 100, 1 << 20, ops);
        Assert.Equal([false, true, true, false], ops.Select(op => (op.Flags & SyncOpFlags.Priority) != 0));

        SyncBacklog none = new EdgeDatabaseSyncStore(db).GetBacklog(0, DateTimeOffset.UtcNow);
        Assert.Equal((0L, 4L), (none.Priority.Ops, none.Normal.Ops));
    }

    [Fact]
    public async Task ReclassifyPriorities_AppliesChangedRulesToOpsAlreadyPending()
    {
        using EdgeDatabase db = Open("reclassify");
        var priorityNames = new HashSet<string>(StringComparer.Ordinal);
        var store = new EdgeDatabaseSyncStore(db, priorityNames.Contains);
        await db.PutAsync("readings", "r1", """{"v":1}""");
        await db.PutAsync("alarms", "a1", """{"level":3}""");
        await db.AppendAsync("alarm.door", 2_000, 1);
        Assert.Equal(0, store.GetBacklog(0, DateTimeOffset.UtcNow).Priority.Ops);

        // A manifest arrives naming alarms priority: the pending ops count again, not only new ones.
        priorityNames.Add("alarms");
        store.ReclassifyPriorities();
        SyncBacklog backlog = store.GetBacklog(0, DateTimeOffset.UtcNow);
        Assert.Equal((1L, 2L), (backlog.Priority.Ops, backlog.Priority.HighestSeq));
        Assert.Equal(2, backlog.Normal.Ops);
    }

    [Fact]
    public async Task PriorityOnly_SendsPriorityAndTheOpsBeforeThem_ThenAllSendsTheRest_NothingLost()
    {
        using EdgeDatabase leaderDb = Open("leader");
        using EdgeDatabase node = Open("node");
        await using var leader = new MqttSyncLeader(Client("leader"), new EdgeDatabaseLeaderStore(leaderDb), Fleet, Options);
        using var stop = new CancellationTokenSource();
        Task serving = leader.RunAsync(stop.Token);
        await _broker.WaitForSubscriptionAsync($"ce/{Fleet}/pull/+");

        await node.AppendAsync("temp.1", 1_000, 20.5);
        await node.PutAsync("alarms", "a1", """{"level":3}""");
        await node.AppendAsync("alarm.door", 2_000, 1);
        await node.PutAsync("readings", "r1", """{"v":1}""");
        await node.AppendAsync("temp.2", 3_000, 7);
        await node.FlushAsync();

        SyncStatus afterPriority = await SyncAsync(node, SyncScope.PriorityOnly);
        Assert.NotNull(leaderDb.Get("alarms", "a1"));
        Assert.Single(leaderDb.ReadRange("alarm.door", 0, long.MaxValue));
        Assert.Single(leaderDb.ReadRange("temp.1", 0, long.MaxValue)); // before the last priority op: travels with it
        Assert.Null(leaderDb.Get("readings", "r1"));                     // after it: stays
        Assert.Empty(leaderDb.ReadRange("temp.2", 0, long.MaxValue));
        Assert.Equal((0L, 2L), (afterPriority.Backlog.Priority.Ops, afterPriority.Backlog.Normal.Ops));

        SyncStatus afterAll = await SyncAsync(node, SyncScope.All);
        Assert.NotNull(leaderDb.Get("readings", "r1"));
        Assert.Single(leaderDb.ReadRange("temp.2", 0, long.MaxValue));
        Assert.Equal(0, afterAll.Backlog.TotalOps);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }

    private async Task<SyncStatus> SyncAsync(EdgeDatabase db, SyncScope scope)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var node = new MqttSyncNode(Client("node-" + Guid.NewGuid().ToString("N")[..6]), new EdgeDatabaseSyncStore(db, IsPriority), Fleet, "node", Options);
        return await node.SyncOnceAsync(scope, deadline.Token);
    }

    private EdgeDatabase Open(string name) =>
        EdgeDatabase.Open(Path.Combine(_root, name), new EdgeDatabaseOptions { Durability = WalDurability.Group(TimeSpan.FromMilliseconds(2)) });

    private MqttClient Client(string id) => new(new MqttClientOptions
    {
        Host = _broker.Host, Port = _broker.Port, ClientId = id,
        ReconnectDelayMin = TimeSpan.FromMilliseconds(50), ReconnectDelayMax = TimeSpan.FromSeconds(1),
    });
}
