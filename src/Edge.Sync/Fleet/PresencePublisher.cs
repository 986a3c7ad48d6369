using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// A node's presence on ce/{fleet}/presence/{node}: QoS 0, retained, so the leader sees the latest
/// state even after its own restart; the Last Will (<see cref="CreateWill"/>, set on the client's
/// options before connecting) marks the node offline when it vanishes without DISCONNECT.
/// Presence is ephemeral: nothing here touches a database or WAL.
/// </summary>
/// <remarks>Thread-safe as far as <see cref="MqttClient"/> is.</remarks>
public sealed class PresencePublisher
{
    private readonly MqttClient _client;
    private long _publishedCount;
    private long _publishedBytes;
    private long _skippedCount;

    /// <summary>Creates a publisher for <paramref name="node"/> of <paramref name="fleet"/> over <paramref name="client"/> (not owned).</summary>
    public PresencePublisher(MqttClient client, string fleet, string node)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        Topic = TopicFor(fleet, node);
        Node = node;
    }

    /// <summary>The node published for.</summary>
    public string Node { get; }

    /// <summary>ce/{fleet}/presence/{node}.</summary>
    public string Topic { get; }

    /// <summary>Reports published.</summary>
    public long PublishedCount => Interlocked.Read(ref _publishedCount);

    /// <summary>Payload bytes published (for the presence-traffic figure).</summary>
    public long PublishedBytes => Interlocked.Read(ref _publishedBytes);

    /// <summary>The presence topic of <paramref name="node"/>.</summary>
    public static string TopicFor(string fleet, string node)
    {
        ArgumentException.ThrowIfNullOrEmpty(fleet);
        ArgumentException.ThrowIfNullOrEmpty(node);
        return $"ce/{fleet}/presence/{node}";
    }

    /// <summary>The Last Will to put in the node's <see cref="MqttClientOptions.Will"/>: retained, QoS 1, online = false.</summary>
    public static MqttWillMessage CreateWill(string fleet, string node) =>
        new(TopicFor(fleet, node), PresenceCodec.Encode(new PresenceReport { Node = node, Online = false }), MqttQualityOfService.AtLeastOnce, retain: true);

    /// <summary>Publishes <paramref name="report"/> (its node must be this publisher's) at QoS 0, retained.</summary>
    public async ValueTask PublishAsync(PresenceReport report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!string.Equals(report.Node, Node, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The report is for node '{report.Node}', this publisher for '{Node}'.", nameof(report));
        }

        byte[] payload = PresenceCodec.Encode(report);
        await _client.PublishAsync(Topic, payload, MqttQualityOfService.AtMostOnce, retain: true, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _publishedCount);
        Interlocked.Add(ref _publishedBytes, payload.Length);
    }

    /// <summary>The default pace of presence reports: one a minute (about 13 KB per node per hour).</summary>
    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Publishes <paramref name="report"/>() now and then every <paramref name="interval"/> until
    /// cancelled. A publish that fails while the link is down is skipped (presence is ephemeral;
    /// the next tick, or the retained will, tells the truth).
    /// </summary>
    public async Task RunAsync(Func<PresenceReport> report, TimeSpan interval, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        using var timer = new PeriodicTimer(interval, timeProvider ?? TimeProvider.System);
        do
        {
            try
            {
                await PublishAsync(report(), cancellationToken).ConfigureAwait(false);
            }
            catch (MqttException exception) when (exception is not MqttProtocolException)
            {
                Interlocked.Increment(ref _skippedCount);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Reports skipped by <see cref="RunAsync"/> because the link was down.</summary>
    public long SkippedCount => Interlocked.Read(ref _skippedCount);

    /// <summary>Publishes a graceful offline report (before a clean DISCONNECT, which suppresses the will).</summary>
    public ValueTask PublishOfflineAsync(CancellationToken cancellationToken = default) =>
        PublishAsync(new PresenceReport { Node = Node, Online = false, SentAt = DateTimeOffset.UtcNow }, cancellationToken);
}
