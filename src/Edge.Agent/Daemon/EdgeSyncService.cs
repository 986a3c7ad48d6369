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
/// priority collections only, defer) is logged with its reason; a burst runs when the policy says
/// one is due (a priority nears its freshness bound, or a pressure rule), then the node stays quiet
/// until the policy's next decision time, a write, or the check interval while data is pending.
/// With nothing pending no timer runs.
/// </summary>
public sealed class EdgeSyncService : IAsyncDisposable, IBacklogSource
{
    private readonly EdgeDatabase _database;
    private readonly AgentConfig _config;
    private readonly ILogger _logger;
    private readonly MqttSyncNode _node;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly IMainsPowerSource? _mains;
    private readonly GpioMainsMonitor? _ownedMains;
    private Task? _loop;
    private long _bursts;
    private long _failedBursts;
    private SyncStatus? _lastStatus;
    private readonly ManifestFilter _manifest = new(FleetRole.Node, ReplicationManifest.Default);
    private readonly EdgeDatabaseSyncStore _store;
    private readonly Func<string, bool>? _localPriority;
    private DateTimeOffset _lastVerifyAt = DateTimeOffset.MinValue;
    private long _verifyRounds;
    private long _verifyDiffering;
    private long _verifyRepaired;
    private long _verifyFailures;

    /// <summary>Creates the service; <see cref="Start"/> runs it.</summary>
    /// <param name="database">The node's database.</param>
    /// <param name="config">The agent configuration (upstream broker, manifest, sync policy).</param>
    /// <param name="logger">Where decisions and bursts are logged.</param>
    /// <param name="battery">Battery input; the sysfs reader at the configured root when null.</param>
    /// <param name="network">Network input; the sysfs reader at the configured roots when null.</param>
    /// <param name="mains">
    /// A UPS "mains lost" line; when null and <c>syncPolicy.mainsLostLine</c> is configured, the GPIO
    /// line is opened. Its edges wake the loop at once (no polling).
    /// </param>
    /// <exception cref="SyncPolicyException">The configured GPIO line cannot be opened (the code says why).</exception>
    public EdgeSyncService(EdgeDatabase database, AgentConfig config, ILogger logger, IBatterySource? battery = null, INetworkSource? network = null, IMainsPowerSource? mains = null)
    {
        _database = database;
        _config = config;
        _logger = logger;
        BrokerConfig upstream = config.Brokers.Upstream ?? throw new ArgumentException("an edge node syncs through brokers.upstream");
        _localPriority = PriorityMatcher(config.Manifest);
        _store = new EdgeDatabaseSyncStore(database, IsPriorityName) { Manifest = _manifest };
        _node = new MqttSyncNode(
            new MqttClient(BrokerConnection.ToMqttOptions(upstream, $"ce-node-{config.Fleet}-{config.Node}", persistentSession: false)),
            _store, config.Fleet, config.Node!, new SyncSessionOptions { SnapshotNewNodes = false });
        SyncPolicyConfig policy = config.SyncPolicy;
        battery ??= new SysfsBatterySource(policy.PowerSupplyRoot);
        if (mains is null && policy.MainsLostLine is { } line)
        {
            _ownedMains = GpioMainsMonitor.Open(new GpioMainsOptions(line.Chip, (uint)line.Line, line.ActiveLow));
            mains = _ownedMains;
        }

        if (mains is not null)
        {
            battery = new UpsBatterySource(battery, mains);
            _mains = mains;
            _mains.Changed += OnMainsChanged;
        }

        Policy = new SyncPolicy(
            battery,
            network ?? new SysfsNetworkSource(new SysfsNetworkOptions { NetClassRoot = policy.NetClassRoot, ProcNetRoot = policy.ProcNetRoot, MeteredInterfaces = policy.MeteredInterfaces }),
            this,
            Cli.PolicyCommand.ToOptions(policy));
    }

    /// <summary>
    /// Which collections and series are priority: manifest entries with priority 0, matched by
    /// exact name, or by prefix when the entry's name ends in '*' (e.g. <c>alarms.*</c> for series).
    /// </summary>
    internal static Func<string, bool>? PriorityMatcher(IReadOnlyDictionary<string, CollectionConfig> manifest)
    {
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var prefixes = new List<string>(); // the '*' patterns
        foreach ((string name, CollectionConfig collection) in manifest)
        {
            if (collection.Priority != 0)
            {
                continue;
            }

            if (NamePattern.IsPrefix(name))
            {
                prefixes.Add(name);
            }
            else
            {
                exact.Add(name);
            }
        }

        if (exact.Count == 0 && prefixes.Count == 0)
        {
            return null;
        }

        return name => exact.Contains(name) || prefixes.Exists(prefix => NamePattern.Matches(prefix, name));
    }

    // Priority: this node's own manifest entries with priority 0, or the leader's manifest rules with
    // the top rule priority (config priority 0 maps to 255, AgentManifest). Asked once per name by the
    // store; a new manifest revision makes it ask again.
    private bool IsPriorityName(string name)
    {
        if (_localPriority?.Invoke(name) == true)
        {
            return true;
        }

        foreach (CollectionRule rule in _manifest.Manifest.Collections)
        {
            if (rule.Priority == AgentManifest.TopRulePriority && NamePattern.Matches(rule.Name, name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The policy deciding when and what to sync, with its decision log.</summary>
    public SyncPolicy Policy { get; }

    /// <summary>Sync bursts run (each one SyncOnce round).</summary>
    public long Bursts => Interlocked.Read(ref _bursts);

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

    /// <summary>
    /// Wakes the loop after a local write: while nothing is pending it sleeps without a timer, and
    /// a first unsent op gives the policy a freshness deadline to plan for. Cheap; call it freely.
    /// </summary>
    public void NotifyWrite() => _wake.Release();

    // On the GPIO monitor's thread: only wake the loop, which re-decides at once.
    private void OnMainsChanged(object? sender, MainsPowerState state) => _wake.Release();

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        TimeSpan check = TimeSpan.FromSeconds(_config.SyncPolicy.CheckIntervalSeconds);
        TimeSpan pull = TimeSpan.FromSeconds(_config.SyncPolicy.PullIntervalSeconds);
        DateTimeOffset lastBurst = DateTimeOffset.MinValue;
        while (!cancellationToken.IsCancellationRequested)
        {
            SyncDecision decision = Policy.Evaluate();
            if (Policy.Log.Latest == decision)
            {
                _logger.LogInformation("sync policy: {Action} ({Rule}): {Reason}", decision.Action, decision.Rule, decision.Reason);
            }

            DateTimeOffset now = DateTimeOffset.UtcNow;
            TimeSpan? wait;
            bool pending = decision.Inputs.Backlog.TotalOperations > 0;
            // Downloads: while nothing restricts sync, the leader's changes are pulled at least every pull interval.
            // pullIn: the time left until the next pull is due (zero or less: due now); null when no pull is.
            TimeSpan? pullIn = pull > TimeSpan.Zero && decision.Rule == SyncRule.Unrestricted ? pull - (now - lastBurst) : null;
            bool pullDue = pullIn <= TimeSpan.Zero;
            // A burst that left due data behind (not yet durable, or it failed) must not spin: pause before the next.
            if ((decision.BurstDue || pullDue) && now - lastBurst >= TimeSpan.FromSeconds(1))
            {
                lastBurst = now;
                bool done = await BurstAsync(decision.Action == SyncAction.SyncNow ? SyncScope.All : SyncScope.PriorityOnly, cancellationToken).ConfigureAwait(false);
                if (done)
                {
                    continue; // decide again at once: the backlog changed
                }

                wait = check;
            }
            else if (decision.BurstDue)
            {
                wait = TimeSpan.FromSeconds(1);
            }
            else if (decision.NextDecisionAt is { } next)
            {
                // Link and sysfs battery changes have no event here: look again after the check interval at the latest.
                wait = next - now < check ? Max(next - now, TimeSpan.Zero) : check;
                if (pullIn is { } untilPull && untilPull < wait)
                {
                    wait = Max(untilPull, TimeSpan.Zero);
                }
            }
            else if (pending)
            {
                // Held back until an input changes: look at the inputs again after the check interval.
                wait = check;
            }
            else
            {
                // Nothing to upload: sleep until a write (or the next pull while everything may go).
                wait = pullIn is { } untilPull ? Max(untilPull, TimeSpan.Zero) : null;
            }

            try
            {
                await _wake.WaitAsync(wait ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
                while (_wake.CurrentCount > 0 && _wake.Wait(0))
                {
                    // Writes since the last decision are all covered by the next one.
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Runs one full sync burst now, whatever the policy says (the operator's "sync now").</summary>
    public async Task<SyncStatus?> SyncNowAsync(CancellationToken cancellationToken)
    {
        await BurstAsync(SyncScope.All, cancellationToken).ConfigureAwait(false);
        return LastStatus;
    }

    private async Task<bool> BurstAsync(SyncScope scope, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(Math.Max(10, _config.SyncPolicy.CheckIntervalSeconds * 4)));
        bool synced = false;
        try
        {
            await ReadManifestAsync(deadline.Token).ConfigureAwait(false);
            SyncStatus status = await _node.SyncOnceAsync(scope, deadline.Token).ConfigureAwait(false);
            synced = true;
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

            return true;
        }
        catch (FleetException ex)
        {
            Interlocked.Increment(ref _verifyFailures);
            _logger.LogWarning("fleet: {Error}; retried at the next burst", ex.Message);
            return synced; // a verify failure after the sync does not undo the burst
        }
        catch (Exception ex) when (ex is OperationCanceledException or MqttException or EdgeException or TimeoutException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            Interlocked.Increment(ref _failedBursts);
            _logger.LogWarning("sync burst ({Scope}) did not complete: {Error}; retried at the next check", scope, ex.Message);
            return false;
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
            _store.ReclassifyPriorities(); // the rules may name other priority collections
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

            Interlocked.Add(ref _verifyDiffering, report.Result.DifferingKeys.Count);
            IReadOnlyList<RepairedKey> repaired = await AntiEntropyRepair.RepairAsync(_database, rule.Name, report.Result,
                (keys, token) => MqttAntiEntropyClient.FetchDocumentsAsync(client, _config.Fleet, _config.Node!, rule.Name, keys, timeout, token),
                rule.LocalOnlyFields, cancellationToken).ConfigureAwait(false);
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
        // As of the policy's latest decision (taken on every write and burst): the sync store is read on the loop's thread only.
        BacklogSnapshot backlog = Policy.Current?.Inputs.Backlog ?? BacklogSnapshot.Empty;
        writer.Family("ce_sync_backlog_oldest_seconds", "gauge", "Age of the oldest unsent own op per sync priority at the latest decision (0 when none)");
        foreach (BacklogPriorityStats stats in backlog.Priorities)
        {
            writer.Sample("ce_sync_backlog_oldest_seconds", stats.OldestUnsentAge?.TotalSeconds ?? 0, ("priority", stats.Priority.ToString().ToLowerInvariant()));
        }

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
        if (_mains is not null)
        {
            _mains.Changed -= OnMainsChanged;
        }

        _ownedMains?.Dispose();
        _stop.Dispose();
        _wake.Dispose();
    }
}
