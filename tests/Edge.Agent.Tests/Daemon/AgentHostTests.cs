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
        // Writes go straight to the database (no NotifyWrite) and ordinary data may wait an hour:
        // a full burst (pull, upload, then the verify at the leader's pace) every second instead.
        edgeConfig.SyncPolicy.PullIntervalSeconds = 1;
        var edge = new AgentHost(edgeConfig, NullLoggerFactory.Instance) { Battery = power, Network = network };
        await edge.StartAsync(CancellationToken.None);
        await edge.Database.PutAsync("notes", "n1", """{"text":"stays on site"}""");
        for (int i = 0; i < 20; i++)
        {
            await edge.Database.PutAsync("assets", $"a{i}", $$"""{"rpm":{{i}},"operatorNotes":"private {{i}}"}""");
        }

        await WaitUntilAsync(() => leader.Database.Scan("assets").Count() == 20, "the leader got the assets");
        // A round that ran while the puts were still travelling may have counted them; a round that
        // starts after the leader holds everything must find nothing.
        long rounds = edge.Sync!.VerifyRounds;
        long differing = edge.Sync.VerifyDiffering;
        await WaitUntilAsync(() => edge.Sync.VerifyRounds > rounds + 1, "a verify round after the upload");
        Assert.Null(leader.Database.Get("notes", "n1"));
        Assert.DoesNotContain("operatorNotes", leader.Database.Get("assets", "a3")!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(differing, edge.Sync.VerifyDiffering); // local-only fields are not divergence
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

        edge.Sync!.NotifyWrite(); // as the API and ingest do: the loop sleeps while nothing is pending

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

    [Fact]
    public async Task EdgeRole_LowBatteryOnMeteredLink_SendsPriorityOnly_ThenNothing_ThenEverythingWhenPowerReturns_NothingLost()
    {
        await using var leader = new AgentHost(Config("leader", null, "prio-leader"), NullLoggerFactory.Instance);
        await leader.StartAsync(CancellationToken.None);

        var battery = new FakeBatterySource { Current = FakeBatterySource.Discharging(25) };
        var network = new FakeNetworkSource { Current = FakeNetworkSource.Link(NetworkInterfaceKind.Cellular, metered: true) };
        AgentConfig edgeConfig = Config("edge", "gw-2", "prio-edge");
        edgeConfig.Manifest["alarms"] = new CollectionConfig { Priority = 0 };
        edgeConfig.SyncPolicy.CheckIntervalSeconds = 1;
        // Priority data may be 2 s stale; ordinary data 12 s (only a critical battery holds it longer).
        edgeConfig.SyncPolicy.FreshnessSeconds = new FreshnessConfig { High = 2, Normal = 12, Low = 12 };
        edgeConfig.SyncPolicy.BurstLeadSeconds = 1;
        await using var edge = new AgentHost(edgeConfig, NullLoggerFactory.Instance) { Battery = battery, Network = network };
        await edge.StartAsync(CancellationToken.None);

        // Origin order: readings r0..r9, alarms a0..a4, readings r10..r19.
        for (int i = 0; i < 10; i++)
            await edge.Database.PutAsync("readings", $"r{i}", $$"""{"v":{{i}}}""");
        for (int i = 0; i < 5; i++)
            await edge.Database.PutAsync("alarms", $"a{i}", $$"""{"level":{{i}}}""");
        for (int i = 10; i < 20; i++)
            await edge.Database.PutAsync("readings", $"r{i}", $$"""{"v":{{i}}}""");
        edge.Sync!.NotifyWrite();

        // Low battery, metered link: the alarms go (with the readings before them: one ordered log), the later
        // readings stay (until their 12 s bound, checked well before).
        await WaitUntil(() => leader.Database.Scan("alarms").Count() == 5, "5 alarms on the leader", edge);
        Assert.Equal(SyncAction.PriorityOnly, edge.Sync.Policy.Current!.Action);
        Assert.Equal(SyncRule.LowBattery, edge.Sync.Policy.Current.Rule);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"r{i}").Order(), leader.Database.Scan("readings").Select(d => d.Key).Order());
        Assert.True(edge.Sync.LastStatus!.Backlog.Normal.Ops >= 10, $"normal backlog {edge.Sync.LastStatus.Backlog}");
        Assert.Equal(0, edge.Sync.LastStatus.Backlog.Priority.Ops);

        // Critical battery: nothing leaves, not even new alarms (then readings r20..r29).
        battery.Current = FakeBatterySource.Discharging(5);
        for (int i = 5; i < 10; i++)
            await edge.Database.PutAsync("alarms", $"a{i}", $$"""{"level":{{i}}}""");
        for (int i = 20; i < 30; i++)
            await edge.Database.PutAsync("readings", $"r{i}", $$"""{"v":{{i}}}""");
        edge.Sync.NotifyWrite();
        long bursts = edge.Sync.Bursts;
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(SyncAction.Defer, edge.Sync.Policy.Current!.Action);
        Assert.Equal(bursts, edge.Sync.Bursts);
        Assert.Null(leader.Database.Get("alarms", "a5"));

        // Power returns (still on the metered link): the alarms go at once (with r10..r19 before them),
        // r20..r29 when their 12 s freshness bound comes.
        battery.Current = FakeBatterySource.Charging(60);
        await WaitUntil(() => leader.Database.Scan("alarms").Count() == 10, "10 alarms on the leader", edge);
        await WaitUntil(() => leader.Database.Scan("readings").Count() == 30, "30 readings on the leader", edge);
        Assert.Contains(edge.Sync.Policy.Log.Snapshot(), d => d.Rule == SyncRule.FreshnessBound && d.Action == SyncAction.SyncNow);
        await WaitUntil(() => edge.Sync.Policy.Current!.Inputs.Backlog.TotalOperations == 0, "empty backlog at the latest decision", edge);
        for (int i = 0; i < 30; i++)
            Assert.Contains($"\"v\":{i}", leader.Database.Get("readings", $"r{i}")!.ToJsonString());
    }

    [Fact]
    public async Task EdgeRole_MainsLostEdge_WakesThePolicyAtOnce_NoPolling()
    {
        await using var leader = new AgentHost(Config("leader", null, "mains-leader"), NullLoggerFactory.Instance);
        await leader.StartAsync(CancellationToken.None);

        // A UPS hat at 5 % charge, on mains: nothing restricts. The check interval is an hour, so
        // only the line's edge can make the loop decide again within the test.
        var mains = new FakeMainsPowerSource();
        var battery = new FakeBatterySource { Current = FakeBatterySource.Charging(5) };
        var network = new FakeNetworkSource { Current = FakeNetworkSource.Link(NetworkInterfaceKind.Ethernet) };
        AgentConfig edgeConfig = Config("edge", "gw-3", "mains-edge");
        edgeConfig.SyncPolicy.CheckIntervalSeconds = 3600;
        edgeConfig.SyncPolicy.PullIntervalSeconds = 0;
        await using var edge = new AgentHost(edgeConfig, NullLoggerFactory.Instance) { Battery = battery, Network = network, Mains = mains };
        await edge.StartAsync(CancellationToken.None);
        await edge.Database.PutAsync("readings", "r0", """{"v":0}""");
        edge.Sync!.NotifyWrite();
        await WaitUntil(() => edge.Sync.Policy.Current?.Inputs.Backlog.TotalOperations == 1, "a decision over the pending write", edge);
        Assert.Equal(SyncRule.Unrestricted, edge.Sync.Policy.Current!.Rule);

        mains.State = MainsPowerState.Lost;
        await WaitUntil(() => edge.Sync.Policy.Current!.Rule == SyncRule.CriticalBattery, "a critical-battery decision after the mains edge", edge);
        Assert.Contains("fake-gpiochip0 line 4", string.Join(",", edge.Sync.Policy.Current!.Inputs.Battery.Sources));
    }

    private static async Task WaitUntil(Func<bool> condition, string what, AgentHost edge)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(60), $"no {what} after 60 s; decision {edge.Sync!.Policy.Current}");
            await Task.Delay(200);
        }
    }
}
