using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CortexEdge.Agent.Cli;
using CortexEdge.Core;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;
using CortexEdge.Sync.Sync;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Agent.Tests.Cli;

/// <summary>`cortex-edge fleet status` against a real mosquitto; `cortex-edge sync verify` on real databases.</summary>
public sealed class FleetCommandsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ce-cli-fleet-" + Guid.NewGuid().ToString("N")[..8]);

    public FleetCommandsTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task FleetStatus_RetainedPresence_ListsEveryNodeAsTableAndJson()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        string port = broker.Port.ToString(CultureInfo.InvariantCulture);
        foreach ((string node, bool online) in new[] { ("gw-1", true), ("gw-2", false) })
        {
            await using var client = new MqttClient(new MqttClientOptions { Host = broker.Host, Port = broker.Port, AutoReconnect = false });
            await client.ConnectAsync();
            await new PresencePublisher(client, "plant", node).PublishAsync(new PresenceReport { Node = node, Online = online, Backlog = 7, BatteryPercent = online ? 55 : null });
            await client.DisconnectAsync();
        }

        (int exitCode, string table, string error) = Run("fleet", "status", "--broker", "127.0.0.1:" + port, "--fleet", "plant", "--wait", "1");
        Assert.True(exitCode == 0, error);
        string[] lines = table.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Contains("gw-1", lines[1], StringComparison.Ordinal);
        Assert.Contains("online", lines[1], StringComparison.Ordinal);
        Assert.Contains("55%", lines[1], StringComparison.Ordinal);
        Assert.Contains("offline", lines[2], StringComparison.Ordinal);

        (exitCode, string json, error) = Run("fleet", "status", "--broker", "127.0.0.1:" + port, "--fleet", "plant", "--wait", "1", "--json");
        Assert.True(exitCode == 0, error);
        using JsonDocument parsed = JsonDocument.Parse(json);
        Assert.Equal(["gw-1", "gw-2"], parsed.RootElement.EnumerateArray().Select(row => row.GetProperty("node").GetString()));
        Assert.Equal(7, parsed.RootElement[0].GetProperty("backlog").GetInt64());
    }

    [Fact]
    public async Task FleetStatus_LeaderRefusedFrames_RefusalCountsPerNodeInTableAndJson()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        string port = broker.Port.ToString(CultureInfo.InvariantCulture);
        await using var leader = new MqttSyncLeader(new MqttClient(new MqttClientOptions { Host = broker.Host, Port = broker.Port, ClientId = "leader" }),
            new MemorySyncStore(0x1EAD, isLeader: true, MemoryDurability.Always), "plant");
        using var stop = new CancellationTokenSource();
        Task serving = leader.RunAsync(stop.Token);
        await broker.WaitForSubscriptionAsync("ce/plant/up/+");
        await using var probe = new MqttClient(new MqttClientOptions { Host = broker.Host, Port = broker.Port, ClientId = "probe" });
        await probe.ConnectAsync();
        await probe.SubscribeAsync(RefusalChannel.TopicFor("plant"), MqttQualityOfService.AtLeastOnce);

        // gw-9 sends a frame naming gw-1 on its own topic, twice.
        byte[] spoof = SyncFrameCodec.Encode(new PullFrame { Fleet = "plant", Node = "gw-1", Sender = 0x99, AfterLsn = 0, VersionVector = [] });
        await probe.PublishAsync(SyncTopics.Pull("plant", "gw-9"), spoof, MqttQualityOfService.AtLeastOnce);
        await probe.PublishAsync(SyncTopics.Pull("plant", "gw-9"), spoof, MqttQualityOfService.AtLeastOnce);
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            while (true)
            {
                MqttMessage message = await probe.Messages.ReadAsync(wait.Token);
                if (RefusalChannel.Decode(message.Payload.Span).TryGetValue("gw-9", out NodeRefusalCounts? counts) && counts.Spoofed == 2)
                {
                    break;
                }
            }
        }

        (int exitCode, string table, string error) = Run("fleet", "status", "--broker", "127.0.0.1:" + port, "--fleet", "plant", "--wait", "1");
        Assert.True(exitCode == 0, error);
        string row = Assert.Single(table.TrimEnd('\n').Split('\n').Skip(1));
        Assert.StartsWith("gw-9", row, StringComparison.Ordinal);
        Assert.Contains(" 2 ", row, StringComparison.Ordinal);

        (exitCode, string json, error) = Run("fleet", "status", "--broker", "127.0.0.1:" + port, "--fleet", "plant", "--wait", "1", "--json");
        Assert.True(exitCode == 0, error);
        using JsonDocument parsed = JsonDocument.Parse(json);
        Assert.Equal(2, parsed.RootElement[0].GetProperty("refused").GetInt64());
        Assert.Equal(2, parsed.RootElement[0].GetProperty("refusals").GetProperty("spoofed").GetInt64());
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }

    [Fact]
    public async Task FleetStatus_BrokerUnreachable_ExitsOneNamingIt()
    {
        int port = MosquittoBroker.GetFreePort();

        (int exitCode, _, string error) = Run("fleet", "status", "--broker", "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture), "--fleet", "plant");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("fleet status:", error, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task SyncVerify_CopiesAgree_ThenOneWriteDiffers()
    {
        string leader = Path.Combine(_root, "leader");
        string node = Path.Combine(_root, "node");
        using (EdgeDatabase database = EdgeDatabase.Open(leader))
        {
            for (int index = 0; index < 100; index++)
            {
                await database.PutAsync("sensors", $"s-{index:D3}", $"{{\"t\":{index}}}");
            }
        }

        Directory.CreateDirectory(node);
        foreach (string file in Directory.GetFiles(leader, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(node, Path.GetRelativePath(leader, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        (int exitCode, string output, string error) = Run("sync", "verify", "--db", node, "--peer-db", leader, "--collection", "sensors");
        Assert.True(exitCode == 0, error + output);
        Assert.Contains("sensors: in agreement", output, StringComparison.Ordinal);

        using (EdgeDatabase database = EdgeDatabase.Open(node))
        {
            await database.PatchAsync("sensors", "s-042", "{\"t\":-1}");
            await database.DeleteAsync("sensors", "s-017");
        }

        (exitCode, output, _) = Run("sync", "verify", "--db", node, "--peer-db", leader, "--collection", "sensors");
        Assert.Equal(3, exitCode);
        Assert.Contains("2 documents differ", output, StringComparison.Ordinal);
        Assert.Contains("different    s-042", output, StringComparison.Ordinal);
        Assert.Contains("only at peer s-017", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SyncVerify_AgainstLiveLeaderThroughBroker_NamesDifferingDocuments()
    {
        string leaderDirectory = Path.Combine(_root, "leader");
        string nodeDirectory = Path.Combine(_root, "node");
        using EdgeDatabase leaderDb = EdgeDatabase.Open(leaderDirectory);
        using (EdgeDatabase nodeDb = EdgeDatabase.Open(nodeDirectory))
        {
            await leaderDb.PutAsync("sensors", "only-leader", "{\"t\":1}");
            await nodeDb.PutAsync("sensors", "only-node", "{\"t\":2}");
        }

        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        await using var leader = new MqttClient(new MqttClientOptions { Host = broker.Host, Port = broker.Port });
        await leader.ConnectAsync();
        var responder = new MqttAntiEntropyResponder(leader, "plant", collection => new EdgeCollectionSource(leaderDb, collection));
        using var stop = new CancellationTokenSource();
        Task serving = responder.RunAsync(stop.Token);
        await broker.WaitForSubscriptionAsync(responder.TopicFilter);

        (int exitCode, string output, string error) = await Task.Run(() => Run("sync", "verify", "--db", nodeDirectory, "--collection", "sensors",
            "--broker", "127.0.0.1:" + broker.Port.ToString(CultureInfo.InvariantCulture), "--fleet", "plant", "--node", "gw-1", "--no-repair"));

        Assert.True(exitCode == 3, error + output);
        Assert.Contains("only local   only-node", output, StringComparison.Ordinal);
        Assert.Contains("only at peer only-leader", output, StringComparison.Ordinal);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }

    [Fact]
    public async Task SyncVerify_RowRemovedInStoppedNode_NamedRepairedAndSyncedUp_ExitsFour()
    {
        string nodeDirectory = Path.Combine(_root, "node");
        using EdgeDatabase leaderDb = EdgeDatabase.Open(Path.Combine(_root, "leader"));
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        MqttClient Client(string id) => new(new MqttClientOptions { Host = broker.Host, Port = broker.Port, ClientId = id + "-" + Guid.NewGuid().ToString("N")[..6] });
        var options = new SyncSessionOptions { SnapshotNewNodes = false };
        await using var leader = new MqttSyncLeader(Client("leader"), new EdgeDatabaseLeaderStore(leaderDb), "plant", options);
        await using MqttClient responderClient = Client("leader-verify");
        await responderClient.ConnectAsync();
        var responder = new MqttAntiEntropyResponder(responderClient, "plant", collection => new EdgeCollectionSource(leaderDb, collection));
        using var stop = new CancellationTokenSource();
        Task serving = leader.RunAsync(stop.Token);
        Task answering = responder.RunAsync(stop.Token);
        await broker.WaitForSubscriptionAsync("ce/plant/pull/+");
        await broker.WaitForSubscriptionAsync(responder.TopicFilter);
        using (EdgeDatabase nodeDb = EdgeDatabase.Open(nodeDirectory, new EdgeDatabaseOptions { RetainUnsyncedOps = true }))
        {
            for (int index = 0; index < 50; index++)
            {
                await nodeDb.PutAsync("sensors", $"s-{index:D3}", $"{{\"t\":{index}}}");
            }

            await using (var node = new MqttSyncNode(Client("gw-1"), new EdgeDatabaseSyncStore(nodeDb), "plant", "gw-1", options))
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await node.SyncOnceAsync(SyncScope.All, deadline.Token);
            }

            await nodeDb.CheckpointAsync();
        }

        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(nodeDirectory, "state.db")};Pooling=False"))
        {
            connection.Open();
            using Microsoft.Data.Sqlite.SqliteCommand remove = connection.CreateCommand();
            remove.CommandText = "DELETE FROM ce_documents WHERE collection = 'sensors' AND key = 's-017';";
            Assert.Equal(1, remove.ExecuteNonQuery());
        }

        (int exitCode, string output, string error) = await Task.Run(() => Run("sync", "verify", "--db", nodeDirectory, "--collection", "sensors",
            "--broker", "127.0.0.1:" + broker.Port.ToString(CultureInfo.InvariantCulture), "--fleet", "plant", "--node", "gw-1"));

        Assert.True(exitCode == 4, error + output);
        Assert.Contains("sensors: 1 documents differ", output, StringComparison.Ordinal);
        Assert.Contains("only at peer s-017", output, StringComparison.Ordinal);
        Assert.Contains("repaired took peer's s-017", output, StringComparison.Ordinal);
        Assert.Contains("sensors: after repair in agreement", output, StringComparison.Ordinal);
        using (EdgeDatabase nodeDb = EdgeDatabase.Open(nodeDirectory))
        {
            Assert.Equal("{\"t\":17}", nodeDb.Get("sensors", "s-017")!.ToJsonString());
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answering);
    }

    [Fact]
    public void SyncVerify_NeitherPeerNorBroker_ExitsOneSayingWhatIsMissing()
    {
        (int exitCode, _, string error) = Run("sync", "verify", "--db", _root, "--collection", "c");

        Assert.Equal(1, exitCode);
        Assert.Contains("--peer-db", error, StringComparison.Ordinal);
    }

    [Fact]
    public void SyncVerify_MissingDatabase_ExitsOne()
    {
        (int exitCode, _, string error) = Run("sync", "verify", "--db", Path.Combine(_root, "absent"), "--peer-db", Path.Combine(_root, "absent2"), "--collection", "c");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("sync verify:", error, StringComparison.Ordinal);
    }

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = EdgeCommandLine.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }
}
