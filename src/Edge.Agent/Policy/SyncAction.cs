namespace CortexEdge.Agent.Policy;

/// <summary>What the sync layer should do now.</summary>
public enum SyncAction
{
    /// <summary>Sync everything: upload every priority, pull from the leader.</summary>
    SyncNow = 0,

    /// <summary>Sync only <see cref="SyncPriority.High"/> collections; hold the rest.</summary>
    PriorityOnly,

    /// <summary>Sync nothing until <see cref="SyncDecision.DeferUntil"/> (or until an input changes and the policy decides again).</summary>
    Defer,
}
