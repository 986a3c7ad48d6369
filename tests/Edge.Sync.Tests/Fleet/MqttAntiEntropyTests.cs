using CortexEdge.Core;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Sync;
using CortexEdge.Sync.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Sync.Tests.Fleet;

/// <summary>sync verify over a real mosquitto with per-node passwords and the shipped ACL: node digest vs the leader's database.</summary>
public sealed class MqttAntiEntropyTests : IDisposable
{
    private const string Fleet = "plant";
    private const string Collection = "sensors";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-fleet-mae-" + Guid.NewGuid().ToString("N")[..12]);

    public MqttAntiEntropyTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Verify_DivergenceInjectedInStoppedNode_FoundAndNamedThroughTheBroker()
    {
        string leaderDirectory = Path.Combine(_root, "leader");
        string nodeDirectory = Path.Combine(_root, "node");
        using (EdgeDatabase database = EdgeDatabase.Open(leaderDirectory))
        {
            for (int index = 0; index < 2_000; index++)
            {
                await database.PutAsync(Collection, $"k-{index:D4}", $"{{\"t\":{index % 50}}}");
            }
        }

        Copy(leaderDirectory, nodeDirectory);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(nodeDirectory, "state.db")};Pooling=False"))
        {
            connection.Open();
            using SqliteCommand change = connection.CreateCommand();
            change.CommandText = "DELETE FROM ce_documents WHERE collection = 'sensors' AND key IN ('k-0100', 'k-1999');";
            Assert.Equal(2, change.ExecuteNonQuery());
        }

        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions
        {
            Users = new Dictionary<string, string> { ["leader"] = "pw-leader", ["node-a"] = "pw-node-a" },
            AclLines = File.ReadAllLines(FleetBrokerTests.AclFile()),
        });
        using EdgeDatabase leaderDb = EdgeDatabase.Open(leaderDirectory);
        using EdgeDatabase nodeDb = EdgeDatabase.Open(nodeDirectory);
        await using var leader = new MqttClient(new MqttClientOptions { Host = broker.Host, Port = broker.Port, Username = "leader", Password = "pw-leader" });
        await leader.ConnectAsync();
        var responder = new MqttAntiEntropyResponder(leader, Fleet, collection => collection == Collection ? new EdgeCollectionSource(leaderDb, collection) : null);
        using var stop = new CancellationTokenSource();
        Task serving = responder.RunAsync(stop.Token);
        await broker.WaitForSubscriptionAsync(responder.TopicFilter);
        await using var node = new MqttClient(new MqttClientOptions { Host = broker.Host, Port = broker.Port, Username = "node-a", Password = "pw-node-a" });
        await node.ConnectAsync();

        AntiEntropyReport report = await MqttAntiEntropyClient.VerifyAsync(node, Fleet, "node-a", Collection,
            MerkleDigest.Build(new EdgeCollectionSource(nodeDb, Collection)), TimeSpan.FromSeconds(15));

        Assert.Equal(
            [("k-0100", KeyDifferenceKind.MissingLocally), ("k-1999", KeyDifferenceKind.MissingLocally)],
            report.Result.DifferingKeys.Select(d => (d.Key, d.Kind)).OrderBy(d => d.Key, StringComparer.Ordinal).ToArray());
        Assert.Equal(report.Result.RoundTrips, responder.AnsweredCount);

        // Writing the leader's documents back locally is a new write (newer HLC): verify keeps naming those keys until sync carries them up.
        foreach (KeyDifference difference in report.Result.DifferingKeys)
        {
            await nodeDb.PutAsync(Collection, difference.Key, leaderDb.Get(Collection, difference.Key)!.ToJsonString());
        }

        AntiEntropyReport again = await MqttAntiEntropyClient.VerifyAsync(node, Fleet, "node-a", Collection,
            MerkleDigest.Build(new EdgeCollectionSource(nodeDb, Collection)), TimeSpan.FromSeconds(15));
        Assert.Equal(2, again.Result.DifferingKeys.Count(d => d.Kind == KeyDifferenceKind.Different)); // never hidden
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }

    [Fact]
    public async Task VerifyAndRepair_DivergenceInjectedInStoppedNode_FoundNamedRepairedThroughTheNormalSync()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions
        {
            Users = new Dictionary<string, string> { ["leader"] = "pw-leader", ["node-a"] = "pw-node-a" },
            AclLines = File.ReadAllLines(FleetBrokerTests.AclFile()),
        });
        MqttClient Client(string user) => new(new MqttClientOptions
        {
            Host = broker.Host, Port = broker.Port, ClientId = user + "-" + Guid.NewGuid().ToString("N")[..6], Username = user, Password = "pw-" + user,
        });
        var options = new SyncSessionOptions { SnapshotNewNodes = false };
        string nodeDirectory = Path.Combine(_root, "node");
        using EdgeDatabase leaderDb = EdgeDatabase.Open(Path.Combine(_root, "leader"));
        await using var leader = new MqttSyncLeader(Client("leader"), new EdgeDatabaseLeaderStore(leaderDb), Fleet, options);
        await using MqttClient responderClient = Client("leader");
        await responderClient.ConnectAsync();
        var responder = new MqttAntiEntropyResponder(responderClient, Fleet, collection => new EdgeCollectionSource(leaderDb, collection));
        using var stop = new CancellationTokenSource();
        Task serving = leader.RunAsync(stop.Token);
        Task answering = responder.RunAsync(stop.Token);
        await broker.WaitForSubscriptionAsync($"ce/{Fleet}/pull/+");
        await broker.WaitForSubscriptionAsync(responder.TopicFilter);
        async Task SyncNodeAsync(EdgeDatabase database)
        {
            await using var node = new MqttSyncNode(Client("node-a"), new EdgeDatabaseSyncStore(database), Fleet, "node-a", options);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            Assert.Equal(0, (await node.SyncOnceAsync(SyncScope.All, deadline.Token)).Backlog.TotalOps);
        }

        using (EdgeDatabase nodeDb = EdgeDatabase.Open(nodeDirectory))
        {
            for (int index = 0; index < 500; index++)
            {
                await nodeDb.PutAsync(Collection, $"k-{index:D4}", $"{{\"t\":{index % 50},\"n\":{index}}}");
            }

            await SyncNodeAsync(nodeDb);
            await nodeDb.CheckpointAsync(); // the state store holds everything: reopening replays nothing over the injection
        }

        // Behind the engine's back, while the node is stopped: one row replaced by another's state, one row removed.
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(nodeDirectory, "state.db")};Pooling=False"))
        {
            connection.Open();
            using SqliteCommand change = connection.CreateCommand();
            change.CommandText =
                "UPDATE ce_documents SET state = (SELECT state FROM ce_documents WHERE collection = $c AND key = 'k-0007'), " +
                "json = (SELECT json FROM ce_documents WHERE collection = $c AND key = 'k-0007') WHERE collection = $c AND key = 'k-0123';" +
                "DELETE FROM ce_documents WHERE collection = $c AND key = 'k-0321';";
            change.Parameters.AddWithValue("$c", Collection);
            Assert.Equal(2, change.ExecuteNonQuery());
        }

        using (EdgeDatabase nodeDb = EdgeDatabase.Open(nodeDirectory))
        {
            await using MqttClient verifier = Client("node-a");
            await verifier.ConnectAsync();
            AntiEntropyReport report = await MqttAntiEntropyClient.VerifyAsync(verifier, Fleet, "node-a", Collection,
                MerkleDigest.Build(new EdgeCollectionSource(nodeDb, Collection)), TimeSpan.FromSeconds(15));
            Assert.Equal(
                [("k-0123", KeyDifferenceKind.Different), ("k-0321", KeyDifferenceKind.MissingLocally)],
                report.Result.DifferingKeys.Select(d => (d.Key, d.Kind)).OrderBy(d => d.Key, StringComparer.Ordinal).ToArray());

            IReadOnlyList<RepairedKey> repaired = await AntiEntropyRepair.RepairAsync(nodeDb, Collection, report.Result,
                (keys, token) => MqttAntiEntropyClient.FetchDocumentsAsync(verifier, Fleet, "node-a", Collection, keys, TimeSpan.FromSeconds(15), token));

            Assert.Equal(
                [("k-0123", RepairAction.TookPeerVersion), ("k-0321", RepairAction.TookPeerVersion)],
                repaired.Select(r => (r.Key, r.Action)).OrderBy(r => r.Key, StringComparer.Ordinal).ToArray());
            Assert.Equal("{\"n\":123,\"t\":23}", nodeDb.Get(Collection, "k-0123")!.ToJsonString());
            Assert.Equal("{\"n\":321,\"t\":21}", nodeDb.Get(Collection, "k-0321")!.ToJsonString());

            // The repairs are ordinary writes: the normal upload and the leader's merge make both replicas equal again.
            await SyncNodeAsync(nodeDb);
            AntiEntropyReport after = await MqttAntiEntropyClient.VerifyAsync(verifier, Fleet, "node-a", Collection,
                MerkleDigest.Build(new EdgeCollectionSource(nodeDb, Collection)), TimeSpan.FromSeconds(15));
            Assert.True(after.Result.InAgreement);
            Assert.Equal("{\"n\":123,\"t\":23}", leaderDb.Get(Collection, "k-0123")!.ToJsonString());
        }

        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answering);
    }

    [Fact]
    public async Task Verify_CollectionTheLeaderDoesNotServe_TimesOutNamingIt()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions
        {
            Users = new Dictionary<string, string> { ["leader"] = "pw-leader", ["node-a"] = "pw-node-a" },
            AclLines = File.ReadAllLines(FleetBrokerTests.AclFile()),
        });
        await using var leader = new MqttClient(new MqttClientOptions { Host = broker.Host, Port = broker.Port, Username = "leader", Password = "pw-leader" });
        await leader.ConnectAsync();
        var responder = new MqttAntiEntropyResponder(leader, Fleet, _ => null);
        using var stop = new CancellationTokenSource();
        Task serving = responder.RunAsync(stop.Token);
        await broker.WaitForSubscriptionAsync(responder.TopicFilter);
        await using var node = new MqttClient(new MqttClientOptions { Host = broker.Host, Port = broker.Port, Username = "node-a", Password = "pw-node-a" });
        await node.ConnectAsync();
        var empty = MerkleDigest.Build(new FleetTestSupport.MemorySource(), depth: 1);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => MqttAntiEntropyClient.VerifyAsync(node, Fleet, "node-a", "unknown", empty, TimeSpan.FromSeconds(3)));

        Assert.Contains("'unknown'", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, responder.RefusedCount);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }

    private static void Copy(string source, string target)
    {
        foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
