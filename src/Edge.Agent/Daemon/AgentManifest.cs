using CortexEdge.Agent.Configuration;
using CortexEdge.Sync.Fleet;

namespace CortexEdge.Agent.Daemon;

/// <summary>The replication manifest the leader builds from its configuration file and hands to the fleet.</summary>
public static class AgentManifest
{
    /// <summary>The rule priority of config priority 0, the highest: the priority entries (<see cref="EdgeSyncService"/>).</summary>
    internal const byte TopRulePriority = byte.MaxValue;

    /// <summary>
    /// The manifest of <paramref name="config"/>'s <c>manifest</c> and <c>verify</c> sections at
    /// <paramref name="revision"/>. Config priority 0 (highest) .. 9 maps to rule priority 255 .. 246
    /// (rules count higher as more urgent).
    /// </summary>
    public static ReplicationManifest Build(AgentConfig config, long revision)
    {
        ArgumentNullException.ThrowIfNull(config);
        CollectionRule[] rules = config.Manifest
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => new CollectionRule
            {
                Name = pair.Key,
                Direction = pair.Value.Direction switch
                {
                    "up" => ReplicationDirection.Up,
                    "down" => ReplicationDirection.Down,
                    "local-only" => ReplicationDirection.LocalOnly,
                    _ => ReplicationDirection.Both,
                },
                Priority = (byte)(TopRulePriority - Math.Clamp(pair.Value.Priority, 0, 9)),
                LocalOnlyFields = pair.Value.LocalOnlyFields.ToArray(),
            })
            .ToArray();
        return new ReplicationManifest(revision, rules, ReplicationDirection.Both, TimeSpan.FromSeconds(config.Verify.IntervalSeconds));
    }
}
