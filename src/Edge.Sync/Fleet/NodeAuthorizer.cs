using System.Collections.Concurrent;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The leader's check on every frame from a node, before anything of it is applied: the topic is
/// ce/{fleet}/{kind}/{node} of this fleet; the node id inside the frame is that node; the broker
/// identity behind it (where the transport knows it) is that node; and every collection it writes
/// is writable by nodes under the current manifest. Refusals are counted per node.
/// </summary>
/// <remarks>
/// MQTT does not tell a subscriber who published a message, so on mosquitto the identity check is
/// made by the broker: the ACL (config/mosquitto/fleet.acl) lets username N publish only on
/// ce/+/up/N, and this class then binds the frame to the topic. Thread-safe.
/// </remarks>
public sealed class NodeAuthorizer
{
    private readonly ConcurrentDictionary<string, NodeRefusalCounters> _refusals = new(StringComparer.Ordinal);
    private readonly ManifestFilter _manifest;
    private long _invalidTopicCount;

    /// <summary>Creates an authorizer for <paramref name="fleet"/> with the leader's manifest filter.</summary>
    public NodeAuthorizer(string fleet, ManifestFilter manifest)
    {
        ArgumentException.ThrowIfNullOrEmpty(fleet);
        ArgumentNullException.ThrowIfNull(manifest);
        Fleet = fleet;
        _manifest = manifest;
    }

    /// <summary>The fleet whose topics are accepted.</summary>
    public string Fleet { get; }

    /// <summary>Frames refused because their topic named no node of this fleet (not attributable to a node).</summary>
    public long InvalidTopicCount => Interlocked.Read(ref _invalidTopicCount);

    /// <summary>
    /// Checks one frame that arrived on <paramref name="topic"/>, claims to come from
    /// <paramref name="frameNodeId"/>, was published under <paramref name="brokerIdentity"/> (null
    /// when the transport cannot tell) and writes <paramref name="collections"/>.
    /// </summary>
    public NodeAuthorizationResult Authorize(string topic, string frameNodeId, string? brokerIdentity, IEnumerable<string> collections)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(frameNodeId);
        ArgumentNullException.ThrowIfNull(collections);
        if (!TryParseTopic(topic, out string node))
        {
            Interlocked.Increment(ref _invalidTopicCount);
            return new NodeAuthorizationResult(false, string.Empty, FleetErrorCode.NodeTopicInvalid, $"Topic '{topic}' is not ce/{Fleet}/<kind>/<node>.");
        }

        NodeRefusalCounters counters = _refusals.GetOrAdd(node, static _ => new NodeRefusalCounters());
        if (!string.Equals(frameNodeId, node, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref counters.Spoofed);
            return new NodeAuthorizationResult(false, node, FleetErrorCode.NodeIdSpoofed, $"Frame claims node '{frameNodeId}' on node '{node}''s topic.");
        }

        if (brokerIdentity is not null && !string.Equals(brokerIdentity, node, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref counters.IdentityMismatch);
            return new NodeAuthorizationResult(false, node, FleetErrorCode.NodeIdentityMismatch, $"Broker identity '{brokerIdentity}' published on node '{node}''s topic.");
        }

        foreach (string collection in collections)
        {
            if (!_manifest.MayNodeWrite(collection))
            {
                Interlocked.Increment(ref counters.CollectionNotWritable);
                return new NodeAuthorizationResult(false, node, FleetErrorCode.CollectionNotWritable,
                    $"Node '{node}' may not write collection '{collection}' (direction {_manifest.Manifest.GetRule(collection).Direction}).");
            }
        }

        return NodeAuthorizationResult.Allow(node);
    }

    /// <summary>The refusals counted for <paramref name="node"/> (zeros for a node never refused).</summary>
    public NodeRefusalCounts GetRefusals(string node) =>
        _refusals.TryGetValue(node, out NodeRefusalCounters? counters) ? counters.Snapshot() : new NodeRefusalCounts();

    /// <summary>Every node with at least one refusal counted.</summary>
    public IReadOnlyDictionary<string, NodeRefusalCounts> GetAllRefusals() =>
        _refusals.Where(pair => pair.Value.Snapshot().Total > 0).ToDictionary(pair => pair.Key, pair => pair.Value.Snapshot(), StringComparer.Ordinal);

    /// <summary>Parses ce/{fleet}/{kind}/{node} of this fleet; the node segment must be a plain, non-empty level.</summary>
    public bool TryParseTopic(string topic, out string node)
    {
        node = string.Empty;
        string[] levels = topic.Split('/');
        if (levels.Length != 4 || levels[0] != "ce" || !string.Equals(levels[1], Fleet, StringComparison.Ordinal) || levels[2].Length == 0
            || levels[3].Length == 0 || levels[3].AsSpan().IndexOfAny('+', '#') >= 0)
        {
            return false;
        }

        node = levels[3];
        return true;
    }
}
