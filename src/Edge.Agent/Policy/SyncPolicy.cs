namespace CortexEdge.Agent.Policy;

/// <summary>
/// The sync policy's front door: reads the battery, network and backlog sources, decides with a
/// <see cref="SyncPolicyEngine"/>, and records decision changes in a <see cref="SyncDecisionLog"/>.
/// The agent calls <see cref="Evaluate"/> when an input changes (a mains GPIO edge, a link event,
/// a write to the backlog) or when the last decision's <see cref="SyncDecision.DeferUntil"/> comes;
/// the policy owns no timer. Thread safe: evaluations are serialized.
/// </summary>
public sealed class SyncPolicy
{
    private readonly IBatterySource _battery;
    private readonly INetworkSource _network;
    private readonly IBacklogSource _backlog;
    private readonly SyncPolicyEngine _engine;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private SyncDecision? _current;

    /// <summary>Creates a policy over its three inputs.</summary>
    /// <param name="battery">Battery and external power.</param>
    /// <param name="network">Links and broker round trip.</param>
    /// <param name="backlog">Unsent operations and quota use (the sync layer).</param>
    /// <param name="options">Thresholds; defaults when <c>null</c>.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <c>null</c>.</param>
    /// <param name="log">Where decision changes go; a new log of default capacity when <c>null</c>.</param>
    /// <exception cref="SyncPolicyException">The options are invalid.</exception>
    public SyncPolicy(IBatterySource battery, INetworkSource network, IBacklogSource backlog,
        SyncPolicyOptions? options = null, TimeProvider? timeProvider = null, SyncDecisionLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(battery);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(backlog);
        _battery = battery;
        _network = network;
        _backlog = backlog;
        _engine = new SyncPolicyEngine(options);
        _timeProvider = timeProvider ?? TimeProvider.System;
        Log = log ?? new SyncDecisionLog();
    }

    /// <summary>The thresholds in use.</summary>
    public SyncPolicyOptions Options => _engine.Options;

    /// <summary>The history of decision changes.</summary>
    public SyncDecisionLog Log { get; }

    /// <summary>The latest decision, or <c>null</c> before the first <see cref="Evaluate"/>.</summary>
    public SyncDecision? Current
    {
        get
        {
            lock (_lock)
                return _current;
        }
    }

    /// <summary>Reads every input now, decides, logs the decision if it changed, and returns it.</summary>
    public SyncDecision Evaluate()
    {
        lock (_lock)
        {
            var inputs = new SyncPolicyInputs(_battery.Read(), _network.Read(), _backlog.Read());
            SyncDecision decision = _engine.Decide(inputs, _timeProvider.GetUtcNow());
            Log.Record(decision);
            _current = decision;
            return decision;
        }
    }
}
