using CortexEdge.Agent.Configuration;
using CortexEdge.Agent.Metrics;
using CortexEdge.Agent.Policy;
using CortexEdge.Core;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Sync;
using Microsoft.Extensions.Logging;

namespace CortexEdge.Agent.Daemon;

/// <summary>
/// An edge node's sync with the leader, run when the sync policy allows: each decision (sync now,
/// priority collections only, defer) is logged with its reason and acted on in one burst, then the
/// node stays quiet until the next check or the defer time.
/// </summary>
public sealed class EdgeSyncService : IAsyncDisposable, IBacklogSource
{
    private readonly EdgeDatabase _database;
    private readonly AgentConfig _config;
    private readonly ILogger _logger;
    private readonly MqttSyncNode _node;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _bursts;
    private long _failedBursts;
    private SyncStatus? _lastStatus;
    private readonly ManifestFilter _manifest = new(FleetRole.Node, ReplicationManifest.Default);
    private DateTimeOffset _lastVerifyAt = DateTimeOffset.MinValue;
    private long _verifyRounds;
    private long _verifyDiffering;
    private long _verifyRepaired;
    private long _verifyFailures;

    /// <summary>Creates the service; <see cref="Start"/> runs it.</summary>
    public EdgeSyncService(EdgeDatabase database, AgentConfig config, ILogger logger, IBatterySource? battery = null, INetworkSource? network = null)
    {
        _database = database;
        _config = config;
        _logger = logger;
        BrokerConfig upstream = config.Brokers.Upstream ?? throw new ArgumentException("an edge node syncs through brokers.upstream");
        _node = new MqttSyncNode(
            new MqttClient(BrokerConnection.ToMqttOptions(upstream, $"ce-node-{config.Fleet}-{config.Node}", persistentSession: false)),
            new EdgeDatabaseSyncStore(database) { Manifest = _manifest }, config.Fleet, config.Node!, new SyncSessionOptions { SnapshotNewNodes = false });
        SyncPolicyConfig policy = config.SyncPolicy;
        Policy = new SyncPolicy(
            battery ?? new SysfsBatterySource(policy.PowerSupplyRoot),
            network ?? new SysfsNetworkSource(new SysfsNetworkOptions { NetClassRoot = policy.NetClassRoot, ProcNetRoot = policy.ProcNetRoot, MeteredInterfaces = policy.MeteredInterfaces }),
            this,
            Cli.PolicyCommand.ToOptions(policy));
    }

    /// <summary>The policy deciding when and what to sync, with its decision log.</summary>
    public SyncPolicy Policy { get; }

    /// <summary>Sync bursts run (each one SyncOnce round).</summary>
    public long Bursts => Interlocked.Read(ref _bursts);

    /// <summary>The replication manifest in force on this node (the leader's, read retained before each burst).</summary>
    public ManifestFilter Manifest => _manifest;

    /// <summary>Verify rounds run at the leader's pace (each compares every collection that travels and repairs what differs).</summary>
    public long VerifyRounds => Interlocked.Read(ref _verifyRounds);

    /// <summary>Documents verify rounds found different from the leader.</summary>
    public long VerifyDiffering => Interlocked.Read(ref _verifyDiffering);

    /// <summary>Documents verify rounds repaired (written locally; the next burst syncs them).</summary>
    public long VerifyRepaired => Interlocked.Read(ref _verifyRepaired);

    /// <summary>The sync status after the last burst.</summary>
    public SyncStatus? LastStatus => Volatile.Read(ref _lastStatus);

    /// <summary>Starts deciding and syncing in the background.</summary>
    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        TimeSpan check = TimeSpan.FromSeconds(_config.SyncPolicy.CheckIntervalSeconds);
        while (!cancellationToken.IsCancellationRequested)
        {
            SyncDecision decision = Policy.Evaluate();
            if (Policy.Log.Latest == decision)
            {
                _logger.LogInformation("sync policy: {Action} ({Rule}): {Reason}", decision.Action, decision.Rule, decision.Reason);
            }

            TimeSpan wait = check;
            if (decision.Action is SyncAction.SyncNow or SyncAction.PriorityOnly)
            {
                await BurstAsync(decision.Action == SyncAction.SyncNow ? SyncScope.All : SyncScope.PriorityOnly, cancellationToken).ConfigureAwait(false);
            }
            else if (decision.DeferUntil is { } until)
            {
                TimeSpan untilThen = until - DateTimeOffset.UtcNow;
                wait = untilThen < check ? (untilThen > TimeSpan.Zero ? untilThen : check) : check;
            }

            try
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Runs one full sync burst now, whatever the policy says (the operator's "sync now").</summary>
    public async Task<SyncStatus?> SyncNowAsync(CancellationToken cancellationToken)
    {
        await BurstAsync(SyncScope.All, cancellationToken).ConfigureAwait(false);
        return LastStatus;
    }

    private async Task BurstAsync(SyncScope scope, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(Math.Max(10, _config.SyncPolicy.CheckIntervalSeconds * 4)));
        try
        {
            await ReadManifestAsync(deadline.Token).ConfigureAwait(false);
            SyncStatus status = await _node.SyncOnceAsync(scope, deadline.Token).ConfigureAwait(false);
            Volatile.Write(ref _lastStatus, status);
            Interlocked.Increment(ref _bursts);
            _logger.LogInformation("sync burst ({Scope}) done: backlog {Ops} ops, lag {Lag} ops", scope, status.Backlog.TotalOps, status.LagOps);
            TimeSpan pace = _manifest.Manifest.VerifyInterval;
            if (scope == SyncScope.All && pace > TimeSpan.Zero && DateTimeOffset.UtcNow - _lastVerifyAt >= pace)
            {
                // After a full burst nothing is in flight, so whatever still differs is real divergence.
                _lastVerifyAt = DateTimeOffset.UtcNow;
                await VerifyAsync(deadline.Token).ConfigureAwait(false);
            }
        }
        catch (FleetException ex)
        {
            Interlocked.Increment(ref _verifyFailures);
            _logger.LogWarning("fleet: {Error}; retried at the next burst", ex.Message);
        }
        catch (Exception ex) when (ex is OperationCanceledException or MqttException or EdgeException or TimeoutException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Increment(ref _failedBursts);
            _logger.LogWarning("sync burst ({Scope}) did not complete: {Error}; retried at the next check", scope, ex.Message);
        }
    }

    // The leader's manifest is retained on the broker: a short connection reads it, so a change takes effect at the next burst.
    private async Task ReadManifestAsync(CancellationToken cancellationToken)
    {
        await using var client = new MqttClient(BrokerConnection.ToMqttOptions(_config.Brokers.Upstream!, $"ce-node-manifest-{_config.Fleet}-{_config.Node}", persistentSession: false));
        await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        long before = _manifest.Manifest.Revision;
        if (await ManifestChannel.ReadRetainedAsync(client, _config.Fleet, _manifest, TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false)
            && _manifest.Manifest.Revision != before)
        {
            _logger.LogInformation("replication manifest revision {Revision} in force ({Count} collection rules, verify every {Pace})", _manifest.Manifest.Revision, _manifest.Manifest.Collections.Count, _manifest.Manifest.VerifyInterval);
        }

        await client.DisconnectAsync(cancellationToken).ConfigureAwait(false);
    }

    // Anti-entropy at the leader's pace: every collection of the manifest that node and leader both hold in full (both, down) is compared by Merkle digest and what differs is repaired
    // with ordinary local writes (the newer version by HLC), which the next burst uploads.
    private async Task VerifyAsync(CancellationToken cancellationToken)
    {
        TimeSpan timeout = TimeSpan.FromSeconds(_config.Verify.ReplyTimeoutSeconds);
        await using var client = new MqttClient(BrokerConnection.ToMqttOptions(_config.Brokers.Upstream!, $"ce-node-verify-{_config.Fleet}-{_config.Node}", persistentSession: false));
        await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        foreach (CollectionRule rule in _manifest.Manifest.Collections)
        {
            if (rule.Direction is not (ReplicationDirection.Both or ReplicationDirection.Down))
            {
                continue; // local-only never leaves; up-only: the leader holds every node's documents, not a copy of this node's
            }

            AntiEntropyReport report = await MqttAntiEntropyClient.VerifyAsync(client, _config.Fleet, _config.Node!, rule.Name,
                MerkleDigest.Build(new EdgeCollectionSource(_database, rule.Name, rule.LocalOnlyFields)), timeout, cancellationToken).ConfigureAwait(false);
            if (report.Result.InAgreement)
            {
                continue;
            }

            IReadOnlyList<RepairedKey> repaired = await AntiEntropyRepair.RepairAsync(_database, rule.Name, report.Result,
                (keys, token) => MqttAntiEntropyClient.FetchDocumentsAsync(client, _config.Fleet, _config.Node!, rule.Name, keys, timeout, token),
                rule.LocalOnlyFields, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _verifyDiffering, report.Result.DifferingKeys.Count);
            Interlocked.Add(ref _verifyRepaired, repaired.Count(r => r.Action != RepairAction.NothingToDo));
            // Divergence is reported, never hidden: every key, what it was and what was done.
            _logger.LogWarning("verify: collection {Collection}: {Count} documents differed from the leader; repaired: {Keys}", rule.Name, report.Result.DifferingKeys.Count,
                string.Join(", ", repaired.Select(r => $"{r.Key} ({r.Difference}: {r.Action})")));
        }

        await client.DisconnectAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _verifyRounds);
    }

    /// <inheritdoc />
    public BacklogSnapshot Read()
    {
        SyncStatus status = _node.GetStatus();
        SyncBacklog backlog = status.Backlog;
        EdgeDatabaseStats stats = _database.GetStats();
        return new BacklogSnapshot(
            [
                new BacklogPriorityStats(SyncPriority.High, backlog.Priority.Ops, backlog.Priority.Bytes, backlog.Priority.Ops == 0 ? null : backlog.Priority.OldestAge),
                new BacklogPriorityStats(SyncPriority.Normal, backlog.Normal.Ops, backlog.Normal.Bytes, backlog.Normal.Ops == 0 ? null : backlog.Normal.OldestAge),
            ],
            stats.WalUsedBytes,
            stats.WalQuotaBytes);
    }

    /// <summary>Writes the sync and policy figures for /metrics.</summary>
    public void WriteMetrics(PrometheusTextWriter writer)
    {
        SyncStatus status = _node.GetStatus();
        writer.Family("ce_sync_backlog_ops", "gauge", "Own ops not yet acknowledged by the leader").Sample("ce_sync_backlog_ops", status.Backlog.TotalOps);
        writer.Family("ce_sync_backlog_bytes", "gauge", "Bytes of own ops not yet acknowledged").Sample("ce_sync_backlog_bytes", status.Backlog.TotalBytes);
        writer.Family("ce_sync_lag_ops", "gauge", "Leader ops not yet downloaded").Sample("ce_sync_lag_ops", status.LagOps);
        writer.Family("ce_sync_bursts_total", "counter", "Sync rounds run").Sample("ce_sync_bursts_total", Bursts);
        writer.Family("ce_sync_failed_bursts_total", "counter", "Sync rounds that did not complete").Sample("ce_sync_failed_bursts_total", Interlocked.Read(ref _failedBursts));
        writer.Family("ce_sync_clock_skew_refusals_total", "counter", "Ops the leader refused for clock skew").Sample("ce_sync_clock_skew_refusals_total", status.ClockSkewRefusals);
        writer.Family("ce_sync_last_upload_timestamp_seconds", "gauge", "Unix time of the last acknowledged upload").Sample("ce_sync_last_upload_timestamp_seconds", status.LastUploadAt?.ToUnixTimeSeconds() ?? 0);
        writer.Family("ce_sync_decision", "gauge", "Current sync policy decision (1 for the active one)");
        SyncDecision? current = Policy.Current;
        foreach (SyncAction action in Enum.GetValues<SyncAction>())
        {
            writer.Sample("ce_sync_decision", current?.Action == action ? 1 : 0, ("action", action.ToString()), ("rule", current?.Action == action ? current.Rule.ToString() : ""));
        }

        writer.Family("ce_verify_rounds_total", "counter", "Anti-entropy rounds run at the leader's pace").Sample("ce_verify_rounds_total", VerifyRounds);
        writer.Family("ce_verify_differing_total", "counter", "Documents found different from the leader").Sample("ce_verify_differing_total", VerifyDiffering);
        writer.Family("ce_verify_repaired_total", "counter", "Documents repaired by anti-entropy").Sample("ce_verify_repaired_total", VerifyRepaired);
        writer.Family("ce_verify_failures_total", "counter", "Manifest reads or verify rounds that failed").Sample("ce_verify_failures_total", Interlocked.Read(ref _verifyFailures));
        writer.Family("ce_sync_decision_changes_total", "counter", "Times the policy changed its decision").Sample("ce_sync_decision_changes_total", Policy.Log.ChangeCount);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        await _node.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
