using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// Runs a <see cref="NodeSyncSession"/> over MQTT: subscribes to the node's ack and down topics,
/// publishes its frames with QoS 1 (redelivery is harmless: every frame is idempotent), feeds it
/// received frames and the time. <see cref="SyncOnceAsync"/> runs one round;
/// <see cref="RunAsync"/> keeps syncing (watch mode). One caller at a time: the session is not thread-safe.
/// </summary>
public sealed class MqttSyncNode : IAsyncDisposable
{
    private readonly MqttClient _client;
    private readonly NodeSyncSession _session;
    private readonly TimeProvider _time;
    private readonly string _fleet;
    private readonly string _node;
    private readonly List<Task> _publishes = [];
    private Task<MqttMessage>? _pendingRead;
    private bool _subscribed;
    private int _localWrites;

    /// <summary>Creates the node host; <paramref name="client"/> is owned and disposed with it.</summary>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.NodeIdentityMismatch"/>: the database is bound to another node name.</exception>
    public MqttSyncNode(MqttClient client, ISyncNodeStore store, string fleet, string nodeName, SyncSessionOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _session = new NodeSyncSession(store, fleet, nodeName, options);
        _client = client;
        _time = timeProvider ?? TimeProvider.System;
        _fleet = fleet;
        _node = nodeName;
    }

    /// <summary>The protocol session (status, counters).</summary>
    public NodeSyncSession Session => _session;

    /// <summary>The node's sync status.</summary>
    public SyncStatus GetStatus() => _session.GetStatus(_time.GetUtcNow());

    /// <summary>Tells the node own ops were written; thread-safe. The next loop turn uploads them.</summary>
    public void NotifyLocalWrite() => Interlocked.Exchange(ref _localWrites, 1);

    /// <summary>Raised for every session event (errors, idle, acknowledgements), on the syncing thread.</summary>
    public event Action<SyncEvent>? EventRaised;

    /// <summary>
    /// One sync round: connects when needed, then uploads (and for <see cref="SyncScope.All"/>
    /// downloads) until <see cref="NodeSyncSession.IsRoundComplete"/>. Lost frames are retried by the
    /// session with backoff; the round ends only when complete, halted or cancelled.
    /// </summary>
    /// <returns>The status at the end of the round.</returns>
    /// <exception cref="SyncProtocolException">The session halted (identity mismatch, unsupported version, wrong fleet).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (a deadline, typically).</exception>
    public async Task<SyncStatus> SyncOnceAsync(SyncScope scope = SyncScope.All, CancellationToken cancellationToken = default)
    {
        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        await HandleAsync(_session.RequestSync(scope, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        while (!_session.IsRoundComplete)
        {
            await TurnAsync(cancellationToken).ConfigureAwait(false);
        }

        await FlushPublishesAsync().ConfigureAwait(false);
        return GetStatus();
    }

    /// <summary>Keeps syncing until cancelled: uploads local writes as they are notified, pulls on the leader's notices and on the poll interval.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await SyncOnceAsync(SyncScope.All, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            await TurnAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _client.DisposeAsync().ConfigureAwait(false);

    private async Task EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_client.State == MqttConnectionState.Disconnected)
        {
            await _client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!_subscribed)
        {
            await _client.SubscribeAsync(SyncTopics.Ack(_fleet, _node), MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
            await _client.SubscribeAsync(SyncTopics.Down(_fleet, _node), MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
            _subscribed = true;
        }
    }

    private async Task TurnAsync(CancellationToken cancellationToken)
    {
        ThrowIfHalted();
        if (Interlocked.Exchange(ref _localWrites, 0) == 1)
        {
            await HandleAsync(_session.NotifyLocalWrite(_time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }

        DateTimeOffset now = _time.GetUtcNow();
        TimeSpan wait = _session.NextWakeAt is DateTimeOffset wake ? wake - now : TimeSpan.FromMilliseconds(500);
        wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > TimeSpan.FromMilliseconds(500) ? TimeSpan.FromMilliseconds(500) : wait;
        _pendingRead ??= _client.Messages.ReadAsync(cancellationToken).AsTask();
        Task delay = Task.Delay(wait, _time, cancellationToken);
        Task done = await Task.WhenAny(_pendingRead, delay).ConfigureAwait(false);
        if (done == _pendingRead)
        {
            MqttMessage message = await _pendingRead.ConfigureAwait(false);
            _pendingRead = null;
            await HandleAsync(_session.ReceiveBytes(message.Payload.Span, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await delay.ConfigureAwait(false); // surfaces cancellation
            await HandleAsync(_session.Tick(_time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(SyncActions actions, CancellationToken cancellationToken)
    {
        foreach (SyncEvent e in actions.Events)
        {
            EventRaised?.Invoke(e);
        }

        foreach (SyncFrame frame in actions.Frames)
        {
            byte[] bytes = SyncFrameCodec.Encode(frame);
            _publishes.Add(PublishAsync(SyncTopics.ForFrame(_fleet, frame), bytes, cancellationToken));
        }

        if (_publishes.Count >= 32)
        {
            await FlushPublishesAsync().ConfigureAwait(false);
        }
    }

    private async Task PublishAsync(string topic, byte[] bytes, CancellationToken cancellationToken)
    {
        try
        {
            await _client.PublishAsync(topic, bytes, MqttQualityOfService.AtLeastOnce, retain: false, cancellationToken).ConfigureAwait(false);
        }
        catch (MqttException ex)
        {
            // The frame is lost (queue full, client closing): the session's timeout resends it.
            EventRaised?.Invoke(new SyncEvent(SyncEventKind.Error, 0, SyncProtocolErrorCode.Timeout, $"publish to {topic} failed: {ex.Message}", _node));
        }
    }

    private async Task FlushPublishesAsync()
    {
        Task[] pending = [.. _publishes];
        _publishes.Clear();
        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private void ThrowIfHalted()
    {
        if (_session.IsHalted)
        {
            SyncError? error = _session.GetStatus(_time.GetUtcNow()).LastError;
            throw new SyncProtocolException(error?.Code ?? SyncProtocolErrorCode.UnexpectedFrame, $"sync of node '{_node}' halted: {error?.Message}");
        }
    }
}
