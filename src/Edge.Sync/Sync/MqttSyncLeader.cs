using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// Runs a <see cref="LeaderSyncSession"/> over MQTT: subscribes to every node's up and pull
/// topics, hands each frame to the session with the node name of its topic, publishes the answers
/// with QoS 1 to the node's ack or down topic, and ticks the session as its log becomes durable.
/// When a refusal was counted it publishes the per-node counts retained on ce/{fleet}/refusals
/// (<see cref="RefusalChannel"/>) for <c>fleet status</c>.
/// </summary>
public sealed class MqttSyncLeader : IAsyncDisposable
{
    private readonly MqttClient _client;
    private readonly LeaderSyncSession _session;
    private readonly TimeProvider _time;
    private readonly string _fleet;
    private readonly TimeSpan _tickInterval;
    private readonly List<Task> _publishes = [];
    private long _publishedRefusalTotal;

    /// <summary>Creates the leader host; <paramref name="client"/> is owned and disposed with it.</summary>
    /// <param name="client">A client to the fleet's broker.</param>
    /// <param name="store">The leader's database.</param>
    /// <param name="fleet">The fleet served.</param>
    /// <param name="options">Protocol options.</param>
    /// <param name="tickInterval">How often to look for newly durable ops (acks, notices); default 10 ms.</param>
    /// <param name="timeProvider">The clock (skew checks, horizons).</param>
    public MqttSyncLeader(MqttClient client, ISyncLeaderStore store, string fleet, SyncSessionOptions? options = null, TimeSpan? tickInterval = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _time = timeProvider ?? TimeProvider.System;
        _session = new LeaderSyncSession(store, fleet, _time.GetUtcNow(), options);
        _client = client;
        _fleet = fleet;
        _tickInterval = tickInterval ?? TimeSpan.FromMilliseconds(10);
    }

    /// <summary>The protocol session (counters).</summary>
    public LeaderSyncSession Session => _session;

    /// <summary>Raised for every session event, on the serving thread.</summary>
    public event Action<SyncEvent>? EventRaised;

    /// <summary>Connects, subscribes and serves until cancelled.</summary>
    /// <exception cref="OperationCanceledException">Cancelled (the normal way to stop).</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_client.State == MqttConnectionState.Disconnected)
        {
            await _client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }

        await _client.SubscribeAsync(SyncTopics.AllNodes(_fleet, "up"), MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
        await _client.SubscribeAsync(SyncTopics.AllNodes(_fleet, "pull"), MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
        Task<MqttMessage>? pendingRead = null;
        DateTimeOffset nextTick = _time.GetUtcNow();
        while (true)
        {
            pendingRead ??= _client.Messages.ReadAsync(cancellationToken).AsTask();
            TimeSpan wait = nextTick - _time.GetUtcNow();
            Task delay = Task.Delay(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, _time, cancellationToken);
            Task done = await Task.WhenAny(pendingRead, delay).ConfigureAwait(false);
            if (done == pendingRead)
            {
                MqttMessage message = await pendingRead.ConfigureAwait(false);
                pendingRead = null;
                if (SyncTopics.TryParseNode(message.Topic, _fleet, out string node))
                {
                    Handle(_session.ReceiveBytes(message.Payload.Span, node, _time.GetUtcNow()), cancellationToken);
                }
            }
            else
            {
                await delay.ConfigureAwait(false);
                nextTick = _time.GetUtcNow() + _tickInterval;
                Handle(_session.Tick(_time.GetUtcNow()), cancellationToken);
            }

            if (_publishes.Count >= 64)
            {
                Task[] pending = [.. _publishes];
                _publishes.Clear();
                await Task.WhenAll(pending).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _client.DisposeAsync().ConfigureAwait(false);

    private void Handle(SyncActions actions, CancellationToken cancellationToken)
    {
        foreach (SyncEvent e in actions.Events)
        {
            EventRaised?.Invoke(e);
        }

        foreach (SyncFrame frame in actions.Frames)
        {
            _publishes.Add(PublishAsync(SyncTopics.ForFrame(_fleet, frame), SyncFrameCodec.Encode(frame), cancellationToken));
        }

        long refusals = _session.RefusalTotal;
        if (refusals != _publishedRefusalTotal)
        {
            // Retained, so `fleet status` (another process) reads the per-node counts on subscribe.
            _publishedRefusalTotal = refusals;
            _publishes.Add(PublishAsync(RefusalChannel.TopicFor(_fleet), RefusalChannel.Encode(_session.GetRefusals()), cancellationToken, retain: true));
        }

        _publishes.RemoveAll(t => t.IsCompleted);
    }

    private async Task PublishAsync(string topic, byte[] bytes, CancellationToken cancellationToken, bool retain = false)
    {
        try
        {
            await _client.PublishAsync(topic, bytes, MqttQualityOfService.AtLeastOnce, retain, cancellationToken).ConfigureAwait(false);
        }
        catch (MqttException ex)
        {
            // Lost answer: the node times out and asks again.
            EventRaised?.Invoke(new SyncEvent(SyncEventKind.Error, 0, SyncProtocolErrorCode.Timeout, $"publish to {topic} failed: {ex.Message}"));
        }
    }
}
