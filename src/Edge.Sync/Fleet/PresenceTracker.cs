using System.Collections.Concurrent;
using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The leader's table of node presence, fed from ce/{fleet}/presence/+: each report replaces the
/// node's row; a Last Will (online = false) marks it offline. Reports whose node id differs from
/// the topic's are refused and counted. Memory only: never written to a WAL.
/// </summary>
/// <remarks>Thread-safe.</remarks>
public sealed class PresenceTracker
{
    private readonly ConcurrentDictionary<string, NodePresence> _nodes = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private long _refusedCount;

    /// <summary>Creates a tracker for <paramref name="fleet"/>.</summary>
    public PresenceTracker(string fleet, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fleet);
        Fleet = fleet;
        _prefix = $"ce/{fleet}/presence/";
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Raised after a node's row changed (on the thread that observed the message).</summary>
    public event EventHandler<NodePresence>? PresenceChanged;

    /// <summary>The fleet tracked.</summary>
    public string Fleet { get; }

    /// <summary>The topic filter to subscribe to.</summary>
    public string TopicFilter => _prefix + "+";

    /// <summary>Presence messages refused (malformed, or naming another node than their topic).</summary>
    public long RefusedCount => Interlocked.Read(ref _refusedCount);

    /// <summary>Every node seen, ordered by node id.</summary>
    public IReadOnlyList<NodePresence> GetNodes() => _nodes.Values.OrderBy(node => node.Node, StringComparer.Ordinal).ToArray();

    /// <summary>The row of <paramref name="node"/>, or false when never seen.</summary>
    public bool TryGetNode(string node, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NodePresence? presence) => _nodes.TryGetValue(node, out presence);

    /// <summary>
    /// Folds in one message if it is a presence message of this fleet; returns false (and leaves the
    /// message to the caller) otherwise. A malformed or spoofed presence payload is counted and
    /// dropped (true is still returned: the message was presence).
    /// </summary>
    public bool TryObserve(MqttMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return TryObserve(message.Topic, message.Payload.Span);
    }

    /// <summary>Like <see cref="TryObserve(MqttMessage)"/> from a topic and a payload.</summary>
    public bool TryObserve(string topic, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (!topic.StartsWith(_prefix, StringComparison.Ordinal) || topic.Length == _prefix.Length || topic.IndexOf('/', _prefix.Length) >= 0)
        {
            return false;
        }

        string node = topic[_prefix.Length..];
        PresenceReport report;
        try
        {
            report = PresenceCodec.Decode(payload);
        }
        catch (FleetProtocolException)
        {
            Interlocked.Increment(ref _refusedCount);
            return true;
        }

        if (!string.Equals(report.Node, node, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _refusedCount);
            return true;
        }

        var presence = new NodePresence(node, report.Online, report, _time.GetUtcNow());
        _nodes[node] = presence;
        PresenceChanged?.Invoke(this, presence);
        return true;
    }

    /// <summary>
    /// Subscribes <paramref name="client"/> (a connection dedicated to presence) to
    /// <see cref="TopicFilter"/> and observes its messages until cancelled or the client is disposed.
    /// </summary>
    public async Task RunAsync(MqttClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        await client.SubscribeAsync(TopicFilter, MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
        await foreach (MqttMessage message in client.Messages.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            TryObserve(message);
        }
    }
}
