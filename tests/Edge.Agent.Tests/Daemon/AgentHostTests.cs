using System.Diagnostics;
using System.Net;
using System.Text;
using CortexEdge.Agent.Configuration;
using CortexEdge.Agent.Daemon;
using CortexEdge.Sync.Tests.Infrastructure;
using CortexEdge.Agent.Policy;
using CortexEdge.Agent.Tests.Policy.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CortexEdge.Agent.Tests.Daemon;

public sealed class AgentHostTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ce-host-").FullName;
    private MosquittoBroker _broker = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync() => _broker = await MosquittoBroker.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _broker.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private AgentConfig Config(string role, string? node, string data) => new()
    {
        Role = role,
        Node = node,
        Fleet = "hosttest",
        DataDirectory = Path.Combine(_directory, data),
        Brokers = new BrokersConfig { Upstream = new BrokerConfig { Host = _broker.Host, Port = _broker.Port, KeepAliveSeconds = 5 } },
        Api = new ApiConfig { Bind = "127.0.0.1:0" },
    };

    [Fact]
    public async Task LeaderAndReplicaRoles_ReplicaServesWhatTheLeaderWrote_AndRefusesWrites()
    {
        await using var leader = new AgentHost(Config("leader", null, "leader"), NullLoggerFactory.Instance);
        await leader.StartAsync(CancellationToken.None);
        await using var replica = new AgentHost(Config("replica", "r1", "replica"), NullLoggerFactory.Instance);
        await replica.StartAsync(CancellationToken.None);

        HttpResponseMessage put = await _http.PutAsync(new Uri(leader.ApiAddress!, "v1/docs/assets/pump-1"), new StringContent("""{"rpm":1450}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var stopwatch = Stopwatch.StartNew();
        HttpResponseMessage got;
        do
        {
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), "the replica never served the leader's write");
            await Task.Delay(100);
            got = await _http.GetAsync(new Uri(replica.ApiAddress!, "v1/docs/assets/pump-1"));
        }
        while (got.StatusCode != HttpStatusCode.OK);
        Assert.Contains("1450", await got.Content.ReadAsStringAsync());

        HttpResponseMessage refused = await _http.PutAsync(new Uri(replica.ApiAddress!, "v1/docs/assets/pump-2"), new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);
    }

    [Fact]
    public async Task Stop_FlushesCheckpointsAndReturnsZero_AndRemovesEndpointFile()
    {
        AgentConfig config = Config("leader", null, "stop") with { Brokers = new BrokersConfig() };
        var host = new AgentHost(config, NullLoggerFactory.Instance);
        await host.StartAsync(CancellationToken.None);
        string endpoint = Path.Combine(config.DataDirectory, AgentHost.EndpointFileName);
        Assert.True(File.Exists(endpoint));
        await host.Database.PutAsync("c", "k", """{"v":1}""");
        using var stop = new CancellationTokenSource();
        Task<int> run = host.RunUntilStoppedAsync(stop.Token);
        stop.Cancel();
        Assert.Equal(0, await run);
        Assert.False(File.Exists(endpoint));
        await host.DisposeAsync();

        using var reopened = CortexEdge.Core.EdgeDatabase.Open(config.DataDirectory);
        Assert.NotNull(reopened.Get("c", "k"));
        Assert.Equal(reopened.GetStats().LastLsn, reopened.GetStats().CheckpointLsn);
    }

    [Fact]
    public async Task LeaderManifestAndVerifyPace_EnforcedOnTheEdge_DivergenceInStoppedEdgeRepairedByThePeriodicVerify()
    {
        AgentConfig leaderConfig = Config("leader", null, "fleet-leader");
        leaderConfig.Manifest["notes"] = new CollectionConfig { Direction = "local-only" };
        leaderConfig.Manifest["assets"] = new CollectionConfig { Direction = "both", LocalOnlyFields = ["operatorNotes"] };
        leaderConfig.Verify.IntervalSeconds = 1;
        await using var leader = new AgentHost(leaderConfig, NullLoggerFactory.Instance);
        await leader.StartAsync(CancellationToken.None);

        var power = new FakeBatterySource { Current = FakeBatterySource.Charging(80) };
        var network = new FakeNetworkSource { Current = FakeNetworkSource.Link(NetworkInterfaceKind.Ethernet) };
        AgentConfig edgeConfig = Config("edge", "gw-1", "fleet-edge");
        edgeConfig.SyncPolicy.CheckIntervalSeconds = 1;
        var edge = new AgentHost(edgeConfig, NullLoggerFactory.Instance) { Battery = power, Network = network };
        await edge.StartAsync(CancellationToken.None);
        await edge.Database.PutAsync("notes", "n1", """{"text":"stays on site"}""");
        for (int i = 0; i < 20; i++)
        {
            await edge.Database.PutAsync("assets", $"a{i}", $$"""{"rpm":{{i}},"operatorNotes":"private {{i}}"}""");
        }

        await WaitUntilAsync(() => leader.Database.Scan("assets").Count() == 20 && edge.Sync!.VerifyRounds > 0, "the leader got the assets and the edge verified");
        Assert.Null(leader.Database.Get("notes", "n1"));
        Assert.DoesNotContain("operatorNotes", leader.Database.Get("assets", "a3")!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(0, edge.Sync!.VerifyDiffering); // local-only fields are not divergence
        await edge.DisposeAsync(); // stops: flush, checkpoint

        // Behind the engine's back, while the edge is stopped: a row removed from its state store.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(edgeConfig.DataDirectory, "state.db")};Pooling=False"))
        {
            connection.Open();
            using Microsoft.Data.Sqlite.SqliteCommand remove = connection.CreateCommand();
            remove.CommandText = "DELETE FROM ce_documents WHERE collection = 'assets' AND key = 'a5';";
            Assert.Equal(1, remove.ExecuteNonQuery());
        }

        await using var restarted = new AgentHost(edgeConfig, NullLoggerFactory.Instance) { Battery = power, Network = network };
        await restarted.StartAsync(CancellationToken.None);
        Assert.Null(restarted.Database.Get("assets", "a5"));
        await WaitUntilAsync(() => restarted.Database.Get("assets", "a5") is not null, "the periodic verify repaired a5");
        Assert.Equal(1, restarted.Sync!.VerifyDiffering);
        Assert.Equal(1, restarted.Sync.VerifyRepaired);
        Assert.Contains("\"rpm\":5", restarted.Database.Get("assets", "a5")!.ToJsonString(), StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(60), "timed out waiting: " + what);
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task EdgeRole_DefersOnCriticalBattery_ThenSyncsEverythingWhenPowerReturns_NothingLost()
    {
        await using var leader = new AgentHost(Config("leader", null, "sync-leader"), NullLoggerFactory.Instance);
        await leader.StartAsync(CancellationToken.None);

        var battery = new FakeBatterySource { Current = FakeBatterySource.Discharging(5) };
        var network = new FakeNetworkSource { Current = FakeNetworkSource.Link(NetworkInterfaceKind.Ethernet) };
        AgentConfig edgeConfig = Config("edge", "gw-1", "sync-edge");
        edgeConfig.SyncPolicy.CheckIntervalSeconds = 1;
        await using var edge = new AgentHost(edgeConfig, NullLoggerFactory.Instance) { Battery = battery, Network = network };
        await edge.StartAsync(CancellationToken.None);
        for (int i = 0; i < 20; i++)
        {
            await edge.Database.PutAsync("alarms", $"a{i}", $$"""{"level":{{i}}}""");
        }

        // Critical battery, discharging: the policy defers and nothing leaves the node.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(SyncAction.Defer, edge.Sync!.Policy.Current!.Action);
        Assert.Equal(0, edge.Sync.Bursts);
        Assert.Null(leader.Database.Get("alarms", "a0"));

        // Power returns: the next check syncs everything.
        battery.Current = FakeBatterySource.Charging(40);
        var stopwatch = Stopwatch.StartNew();
        while (leader.Database.Scan("alarms").Count() < 20)
        {
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(60), $"leader has {leader.Database.Scan("alarms").Count()} of 20 after power returned; decision {edge.Sync.Policy.Current}");
            await Task.Delay(200);
        }

        Assert.Equal(SyncAction.SyncNow, edge.Sync.Policy.Current!.Action);
        Assert.Contains("19", leader.Database.Get("alarms", "a19")!.ToJsonString());
    }
}
