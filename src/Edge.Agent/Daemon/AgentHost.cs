using System.Globalization;
using System.Text.Json;
using CortexEdge.Agent.Api;
using CortexEdge.Agent.Configuration;
using CortexEdge.Agent.Ingest;
using CortexEdge.Agent.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using CortexEdge.Core;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Replication;
using CortexEdge.Sync.Sync;
using Microsoft.Extensions.Logging;

namespace CortexEdge.Agent.Daemon;

/// <summary>
/// The daemon behind <c>cortex-edge run</c>: opens the database, starts the local API, sensor
/// ingest and sync for its role (the leader also enforces and publishes the replication manifest
/// and answers anti-entropy requests), tells systemd it is ready, and on stop (SIGTERM) writes what is
/// pending, checkpoints and closes within <see cref="ShutdownTimeout"/>.
/// </summary>
/// <remarks>
/// Nothing here polls: ingest waits on the broker connection, the API on its sockets, the
/// watchdog timer exists only when systemd asked for one.
/// </remarks>
public sealed class AgentHost : IAsyncDisposable
{
    /// <summary>Name of the file in the data directory that tells CLI verbs where the running agent listens.</summary>
    public const string EndpointFileName = "agent.endpoint";

    private readonly AgentConfig _config;
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggerFactory;
    private readonly SystemdNotifier _notifier;
    private readonly List<Func<ValueTask>> _stopActions = [];
    private EdgeDatabase? _database;

    /// <summary>Creates the host; <see cref="StartAsync"/> brings it up.</summary>
    public AgentHost(AgentConfig config, ILoggerFactory loggerFactory, SystemdNotifier? notifier = null)
    {
        _config = config;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("cortex-edge");
        _notifier = notifier ?? new SystemdNotifier(null);
    }

    /// <summary>Longest a graceful stop may take before it is reported as failed.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The open database (after start).</summary>
    public EdgeDatabase Database => _database ?? throw new InvalidOperationException("The agent has not started.");

    /// <summary>The local API's address (after start).</summary>
    public Uri? ApiAddress { get; private set; }

    /// <summary>The ingest pipeline, when configured.</summary>
    public SensorIngest? Ingest { get; private set; }

    /// <summary>The edge node's sync with the leader, when the role is edge and an upstream broker is set.</summary>
    public EdgeSyncService? Sync { get; private set; }

    /// <summary>Battery input for the sync policy (null: the sysfs reader at the configured root).</summary>
    public Policy.IBatterySource? Battery { get; init; }

    /// <summary>Network input for the sync policy (null: the sysfs reader at the configured roots).</summary>
    public Policy.INetworkSource? Network { get; init; }

    /// <summary>UPS "mains lost" input for the sync policy (null: the configured GPIO line, if any).</summary>
    public Policy.IMainsPowerSource? Mains { get; init; }

    /// <summary>Metrics shown on /metrics.</summary>
    public AgentMetrics? Metrics { get; private set; }

    /// <summary>Hooks that start role-specific services (sync, replication) once the database is open.</summary>
    public List<Func<AgentHost, CancellationToken, Task<Func<ValueTask>?>>> Services { get; } = [];

    /// <summary>Opens the database and starts every configured part.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_config.DataDirectory);
        var databaseOptions = new EdgeDatabaseOptions
        {
            Durability = ParseDurability(_config.Durability),
            CheckpointInterval = TimeSpan.FromMilliseconds(_config.Durability.CheckpointIntervalMs),
            WalQuotaBytes = _config.Quotas.WalBytes,
            // An edge node's own ops are its offline queue: kept until the leader acknowledged them.
            RetainUnsyncedOps = _config.Role == "edge",
            // At the quota, the oldest unsent ops of these may go (counted) instead of refusing writes.
            DroppableCollections = _config.Manifest.Where(entry => entry.Value.Droppable).Select(entry => entry.Key).ToArray(),
        };
        if (_config.Role == "replica")
        {
            // A read replica's database belongs to its follower, which applies the leader's WAL verbatim.
            var follower = new ReplicationFollower(_config.DataDirectory, BrokerConnection.ToMqttOptions(_config.Brokers.Upstream!, $"ce-replica-{_config.Node}", persistentSession: false),
                _config.Fleet, _config.Node!, databaseOptions: databaseOptions);
            await follower.StartAsync(cancellationToken).ConfigureAwait(false);
            _database = follower.Database;
            _stopActions.Add(follower.DisposeAsync);
        }
        else
        {
            _database = EdgeDatabase.Open(_config.DataDirectory, databaseOptions);
            _stopActions.Add(async () =>
            {
                await _database.FlushAsync().ConfigureAwait(false);
                await _database.CheckpointAsync().ConfigureAwait(false);
                await _database.DisposeAsync().ConfigureAwait(false);
            });
        }

        if (_config.Role == "leader" && _config.Brokers.Upstream is { } upstream)
        {
            // The leader streams its WAL to read replicas (docs/replication.md).
            var replication = new ReplicationLeader(_database, BrokerConnection.ToMqttOptions(upstream, $"ce-leader-repl-{_config.Fleet}", persistentSession: false), _config.Fleet);
            await replication.StartAsync(cancellationToken).ConfigureAwait(false);
            _stopActions.Add(replication.DisposeAsync);
        }
        _logger.LogInformation("database {Directory} open: replica {Replica}, role {Role}", _config.DataDirectory, _database.ReplicaId.ToString("x16", CultureInfo.InvariantCulture), _config.Role);

        Metrics = new AgentMetrics(_database);
        string? token = _config.Api.TokenFile is { } tokenFile ? (await File.ReadAllTextAsync(tokenFile, cancellationToken).ConfigureAwait(false)).Trim() : null;
        LocalApi api = await LocalApi.StartAsync(_database, new LocalApiOptions
        {
            Bind = _config.Api.Bind,
            Token = token,
            Metrics = Metrics.Render,
            MapExtra = app =>
            {
                // A write through the API may start a backlog: wake the sync loop, which sleeps while nothing is pending.
                app.Use(async (context, next) =>
                {
                    await next(context).ConfigureAwait(false);
                    if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
                    {
                        Sync?.NotifyWrite();
                    }
                });
                MapExtra?.Invoke(app);
                app.MapGet("/v1/sync/status", WriteSyncStatusAsync);
                app.MapPost("/v1/sync/now", async context =>
                {
                    if (Sync is null)
                    {
                        await LocalApi.WriteErrorAsync(context, 404, "no-sync", "this agent does not sync (role edge with brokers.upstream does)").ConfigureAwait(false);
                        return;
                    }

                    await Sync.SyncNowAsync(context.RequestAborted).ConfigureAwait(false);
                    await WriteSyncStatusAsync(context).ConfigureAwait(false);
                });
            },
        }, cancellationToken).ConfigureAwait(false);
        _stopActions.Add(api.DisposeAsync);
        ApiAddress = api.Address;
        WriteEndpointFile(api.Address);
        _logger.LogInformation("local API on {Address}", api.Address);

        if (_config.Role == "leader" && _config.Brokers.Upstream is { } leaderBroker)
        {
            // The manifest from the configuration: enforced on every uploaded op, handed to nodes retained
            // (a restart publishes a newer revision), and carrying the fleet's verify pace.
            ReplicationManifest manifest = AgentManifest.Build(_config, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            var filter = new ManifestFilter(FleetRole.Leader, manifest);
            var leader = new MqttSyncLeader(
                new MqttClient(BrokerConnection.ToMqttOptions(leaderBroker, $"ce-leader-{_config.Fleet}", persistentSession: false)),
                new EdgeDatabaseLeaderStore(_database) { Manifest = filter }, _config.Fleet, new SyncSessionOptions { SnapshotNewNodes = false });
            var fleetClient = new MqttClient(BrokerConnection.ToMqttOptions(leaderBroker, $"ce-leader-verify-{_config.Fleet}", persistentSession: false));
            await fleetClient.ConnectAsync(cancellationToken).ConfigureAwait(false);
            await ManifestChannel.PublishAsync(fleetClient, _config.Fleet, manifest, cancellationToken).ConfigureAwait(false);
            EdgeDatabase database = _database;
            var responder = new MqttAntiEntropyResponder(fleetClient, _config.Fleet, collection =>
                filter.Manifest.GetRule(collection) is { Direction: not ReplicationDirection.LocalOnly } rule ? new EdgeCollectionSource(database, collection, rule.LocalOnlyFields) : null);
            var stopLeader = new CancellationTokenSource();
            Task serving = leader.RunAsync(stopLeader.Token);
            Task answering = responder.RunAsync(stopLeader.Token);
            _stopActions.Add(async () =>
            {
                await stopLeader.CancelAsync().ConfigureAwait(false);
                foreach (Task task in new[] { serving, answering })
                {
                    try
                    {
                        await task.ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or MqttException or System.Threading.Channels.ChannelClosedException)
                    {
                        // Stopped.
                    }
                }

                await leader.DisposeAsync().ConfigureAwait(false);
                await fleetClient.DisposeAsync().ConfigureAwait(false);
                stopLeader.Dispose();
            });
            _logger.LogInformation("sync leader of fleet {Fleet} on {Host}:{Port}", _config.Fleet, leaderBroker.Host, leaderBroker.Port);
        }

        if (_config.Role == "edge" && _config.Brokers.Upstream is not null)
        {
            var sync = new EdgeSyncService(_database, _config, _loggerFactory.CreateLogger("sync"), Battery, Network, Mains);
            Sync = sync;
            Metrics.Sources.Add(sync.WriteMetrics);
            sync.Start();
            _stopActions.Add(sync.DisposeAsync);
        }

        if (_config.Brokers.Local is { } local && _config.Ingest.Rules.Count > 0)
        {
            await StartIngestAsync(local, cancellationToken).ConfigureAwait(false);
        }

        foreach (var service in Services)
        {
            Func<ValueTask>? stop = await service(this, cancellationToken).ConfigureAwait(false);
            if (stop is not null)
            {
                _stopActions.Add(stop);
            }
        }

        _notifier.Ready($"{_config.Role} ready; API {api.Address}");
    }

    /// <summary>Routes other parts add to the API (set before <see cref="StartAsync"/>).</summary>
    public Action<Microsoft.AspNetCore.Builder.WebApplication>? MapExtra { get; set; }

    private Task WriteSyncStatusAsync(Microsoft.AspNetCore.Http.HttpContext context)
    {
        if (Sync is null)
        {
            return LocalApi.WriteErrorAsync(context, 404, "no-sync", "this agent does not sync (role edge with brokers.upstream does)");
        }

        SyncStatus? status = Sync.LastStatus;
        Policy.SyncDecision? decision = Sync.Policy.Current;
        return LocalApi.WriteJsonAsync(context, 200, writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("bursts", Sync.Bursts);
            if (status is not null)
            {
                writer.WriteNumber("backlogOps", status.Backlog.TotalOps);
                writer.WriteNumber("backlogBytes", status.Backlog.TotalBytes);
                writer.WriteNumber("backlogPriorityOps", status.Backlog.Priority.Ops);
                writer.WriteNumber("lagOps", status.LagOps);
                writer.WriteBoolean("upToDate", status.IsIdle && status.IsDownloadUpToDate);
                writer.WriteString("lastUpload", status.LastUploadAt?.ToString("O", CultureInfo.InvariantCulture));
                writer.WriteString("lastDownload", status.LastDownloadAt?.ToString("O", CultureInfo.InvariantCulture));
                writer.WriteString("lastError", status.LastError?.Message);
            }

            if (decision is not null)
            {
                writer.WriteString("decision", decision.Action.ToString());
                writer.WriteString("rule", decision.Rule.ToString());
                writer.WriteString("reason", decision.Reason);
                writer.WriteNumber("pendingOps", decision.Inputs.Backlog.TotalOperations);
                writer.WriteBoolean("burstDue", decision.BurstDue);
                writer.WriteString("nextDecisionAt", decision.NextDecisionAt?.ToString("O", CultureInfo.InvariantCulture));
            }

            writer.WriteEndObject();
        });
    }

    private async Task StartIngestAsync(BrokerConfig local, CancellationToken cancellationToken)
    {
        IReadOnlyList<IngestRule> rules = IngestRule.FromConfig(_config.Ingest);
        // A persistent session keeps QoS 1 readings published while the agent restarts, and those it
        // received but had not written: they are acknowledged only once written.
        var client = new MqttClient(BrokerConnection.ToMqttOptions(local, $"ce-ingest-{_config.Node ?? _config.Role}", persistentSession: true, manualAcknowledgement: true));
        await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        foreach (IngestRule rule in rules)
        {
            await client.SubscribeAsync(rule.Pattern.Filter, MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
        }

        var ingest = new SensorIngest(Database, rules, new SensorIngestOptions
        {
            BatchMaxReadings = _config.Ingest.BatchMaxReadings,
            BatchMaxDelay = TimeSpan.FromMilliseconds(_config.Ingest.BatchMaxDelayMs),
            AfterWrite = () => Sync?.NotifyWrite(),
            IsPrioritySeries = EdgeSyncService.PriorityMatcher(_config.Manifest),
        }, _loggerFactory.CreateLogger("ingest"));
        Ingest = ingest;
        Metrics!.Ingest = ingest;
        var stop = new CancellationTokenSource();
        Task pump = ingest.RunAsync(client.Messages, stop.Token);
        _stopActions.Add(async () =>
        {
            // Stop taking messages, write what was parsed, then leave the broker.
            await stop.CancelAsync().ConfigureAwait(false);
            await pump.ConfigureAwait(false);
            await client.DisposeAsync().ConfigureAwait(false);
            stop.Dispose();
        });
        _logger.LogInformation("ingest: {Count} rule(s) on {Host}:{Port}", rules.Count, local.Host, local.Port);
    }

    /// <summary>Runs until <paramref name="stopToken"/> fires (SIGTERM), then stops gracefully.</summary>
    /// <returns>0 after a clean stop, 1 when the stop timed out or failed.</returns>
    public async Task<int> RunUntilStoppedAsync(CancellationToken stopToken)
    {
        using PeriodicTimer? watchdog = _notifier.WatchdogInterval is { } interval ? new PeriodicTimer(interval / 2) : null;
        try
        {
            if (watchdog is null)
            {
                await Task.Delay(Timeout.Infinite, stopToken).ConfigureAwait(false);
            }
            else
            {
                while (await watchdog.WaitForNextTickAsync(stopToken).ConfigureAwait(false))
                {
                    // A faulted database is not healthy: stop pinging and let systemd restart us.
                    if (!Database.IsFaulted)
                    {
                        _notifier.WatchdogPing();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stop requested.
        }

        _notifier.Stopping("flushing and checkpointing");
        _logger.LogInformation("stopping: flushing and checkpointing");
        Task stopping = StopAsync();
        if (await Task.WhenAny(stopping, Task.Delay(ShutdownTimeout, CancellationToken.None)).ConfigureAwait(false) != stopping)
        {
            _logger.LogError("stop did not finish within {Timeout}", ShutdownTimeout);
            return 1;
        }

        try
        {
            await stopping.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EdgeException or IOException)
        {
            _logger.LogError("stop failed: {Error}", ex.Message);
            return 1;
        }

        _logger.LogInformation("stopped cleanly");
        return 0;
    }

    private async Task StopAsync()
    {
        // Reverse start order: services, ingest, API, then the database last.
        for (int i = _stopActions.Count - 1; i >= 0; i--)
        {
            await _stopActions[i]().ConfigureAwait(false);
        }

        _stopActions.Clear();
        TryDeleteEndpointFile();
    }

    private void WriteEndpointFile(Uri address)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("url", address.ToString());
            writer.WriteNumber("pid", Environment.ProcessId);
            if (_config.Api.TokenFile is not null)
            {
                writer.WriteString("tokenFile", Path.GetFullPath(_config.Api.TokenFile));
            }

            writer.WriteEndObject();
        }

        File.WriteAllBytes(Path.Combine(_config.DataDirectory, EndpointFileName), stream.ToArray());
    }

    private void TryDeleteEndpointFile()
    {
        try
        {
            File.Delete(Path.Combine(_config.DataDirectory, EndpointFileName));
        }
        catch (IOException ex)
        {
            _logger.LogWarning("could not remove {File}: {Error}", EndpointFileName, ex.Message);
        }
    }

    /// <summary>Maps the configured durability to the WAL's.</summary>
    public static WalDurability ParseDurability(DurabilityConfig durability)
    {
        TimeSpan interval = TimeSpan.FromMilliseconds(durability.IntervalMs);
        return durability.Mode switch
        {
            "none" => WalDurability.None,
            "periodic" => WalDurability.Periodic(interval),
            "always" => WalDurability.Always,
            _ => WalDurability.Group(interval),
        };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _notifier.Dispose();
    }
}
