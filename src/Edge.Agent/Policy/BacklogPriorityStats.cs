namespace CortexEdge.Agent.Policy;

/// <summary>The unsent backlog of one priority.</summary>
/// <param name="Priority">Which priority.</param>
/// <param name="Operations">Unsent operations.</param>
/// <param name="Bytes">Their encoded size in bytes.</param>
/// <param name="OldestUnsentAge">How long the oldest unsent operation has waited, or <c>null</c> when none waits.</param>
public readonly record struct BacklogPriorityStats(SyncPriority Priority, long Operations, long Bytes, TimeSpan? OldestUnsentAge);
