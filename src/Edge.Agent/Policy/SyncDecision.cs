namespace CortexEdge.Agent.Policy;

/// <summary>
/// What the policy decided, why, and from what. Immutable.
/// </summary>
/// <param name="Action">Sync everything, priority collections only, or nothing.</param>
/// <param name="DeferUntil">For <see cref="SyncAction.Defer"/>: when to decide again at the latest (an input change may come sooner); otherwise <c>null</c>.</param>
/// <param name="Rule">The rule that decided.</param>
/// <param name="Reason">The decision for a person, naming the values and thresholds that drove it.</param>
/// <param name="DecidedAt">When the decision was taken.</param>
/// <param name="Inputs">The inputs it was taken from.</param>
public sealed record SyncDecision(SyncAction Action, DateTimeOffset? DeferUntil, SyncRule Rule, string Reason, DateTimeOffset DecidedAt, SyncPolicyInputs Inputs)
{
    /// <summary>
    /// Whether the sync layer should run one burst of what <see cref="Action"/> allows now: a
    /// priority it carries is about to exceed its freshness bound, or a pressure rule (quota, old
    /// backlog, freshness on a costly link) forces it. Otherwise the backlog waits so that one
    /// later burst carries it all (the radio stays quiet in between).
    /// </summary>
    public bool BurstDue { get; init; }

    /// <summary>
    /// When the policy must decide again at the latest even if no input changes: the moment the
    /// first pending priority nears its freshness bound, the end of a deferral or of the
    /// power-restore settle time. <c>null</c> when nothing is pending: only an input change
    /// (a write, a power or link event) needs a new decision, so no timer has to run.
    /// </summary>
    public DateTimeOffset? NextDecisionAt { get; init; }

    /// <summary>Whether this decision lets <paramref name="priority"/> be sent now.</summary>
    public bool Allows(SyncPriority priority) => Action switch
    {
        SyncAction.SyncNow => true,
        SyncAction.PriorityOnly => priority == SyncPriority.High,
        _ => false,
    };

    /// <summary>Whether <paramref name="other"/> is the same decision for the log (same action and rule; times and inputs may differ).</summary>
    public bool IsSameDecisionAs(SyncDecision? other) => other is not null && other.Action == Action && other.Rule == Rule;

    /// <summary>E.g. <c>2026-11-23T12:00:00Z PriorityOnly (LowBattery): battery 25% ...</c>.</summary>
    public override string ToString()
    {
        string action = Action == SyncAction.Defer && DeferUntil is DateTimeOffset until ? $"Defer until {until.UtcDateTime:yyyy-MM-ddTHH:mm:ss}Z" : Action.ToString();
        string burst = BurstDue ? " burst now;" : "";
        return $"{DecidedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss}Z {action} ({Rule}):{burst} {Reason}";
    }
}
