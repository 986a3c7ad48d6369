using System.Diagnostics;
using System.Threading.Channels;

namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// An MQTT 3.1.1 / 5.0 client built for unreliable links: QoS 0, 1 and 2 both ways, persistent
/// sessions with resend after reconnect, keep-alive with dead-link detection, automatic reconnect
/// with exponential backoff and jitter, resubscription when the broker lost the session, a
/// bounded outgoing queue, TLS, and received messages through a bounded <see cref="Messages"/>
/// channel (a slow reader slows the broker down instead of growing memory).
/// </summary>
/// <remarks>
/// Thread-safe: every method may be called from any thread, concurrently. Events are raised in
/// order on a background task. Publishing allocates nothing per message in steady state (pooled
/// operations, pooled send buffers). Dispose with <see cref="DisposeAsync"/>, which disconnects
/// cleanly.
/// </remarks>
public sealed partial class MqttClient : IAsyncDisposable
{
    private const int SubscriptionsPerPacketMax = 64;

    private readonly MqttClientOptions _options;
    private readonly object _gate = new();
    private readonly Channel<MqttMessage> _messages;
    private readonly Channel<MqttConnectionStateChangedEventArgs> _stateEvents;
    private readonly Task _stateEventPump;
    private readonly Queue<MqttPublishOperation> _queue = new();
    private readonly Dictionary<ushort, MqttPublishOperation> _inflight = [];
    private readonly Dictionary<ushort, TaskCompletionSource<MqttSubAckPacket>> _control = [];
    private readonly HashSet<ushort> _incomingQos2 = [];
    // Manual acknowledgement, per session: ids delivered and not yet acknowledged (with the link
    // that delivered them), and ids acknowledged after their link closed. A broker keeping the
    // session resends unacknowledged messages with their ids first thing after a reconnect
    // [MQTT-4.4.0-1]; that copy is not delivered again, and takes the acknowledgement instead.
    private readonly Dictionary<ushort, MqttLink> _heldByApplication = [];
    private readonly HashSet<ushort> _acknowledgedOffline = [];
    private readonly Dictionary<string, MqttSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Random _jitter = new();
    private readonly byte[]? _passwordBytes;
    private MqttLink? _link;
    private MqttConnectionState _state;
    private MqttProtocolVersion _version;
    private string _clientId;
    private ushort _nextPacketId;
    private long _sequence;
    private long _generation;
    private bool _wantConnected;
    private Task _reconnectTask = Task.CompletedTask;
    private CancellationTokenSource _reconnectStop = new();
    private MqttConnectResult? _connectResult;

    /// <summary>Creates a client; nothing is opened until <see cref="ConnectAsync"/>.</summary>
    /// <exception cref="MqttException">Code <see cref="MqttErrorCode.InvalidOptions"/> when an option is out of range.</exception>
    public MqttClient(MqttClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _version = options.ProtocolVersion;
        _clientId = options.ClientId;
        _passwordBytes = options.Password is null ? null : System.Text.Encoding.UTF8.GetBytes(options.Password);
        _messages = Channel.CreateBounded<MqttMessage>(new BoundedChannelOptions(options.ReceiveQueueCountMax)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = true,
        });
        _stateEvents = Channel.CreateUnbounded<MqttConnectionStateChangedEventArgs>(new UnboundedChannelOptions { SingleReader = true });
        _stateEventPump = Task.Run(PumpStateEventsAsync);
    }

    /// <summary>
    /// Raised after every change of <see cref="State"/>, in order, on a background task (never
    /// while the client holds a lock). A handler that throws is reported through <see cref="Trace"/>.
    /// </summary>
    public event EventHandler<MqttConnectionStateChangedEventArgs>? ConnectionStateChanged;

    /// <summary>The current connection state.</summary>
    public MqttConnectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>
    /// Received messages, in the order the broker sent them. Bounded by
    /// <see cref="MqttClientOptions.ReceiveQueueCountMax"/>: while it is full the client stops
    /// reading from the broker, and QoS 1/2 messages are acknowledged only once they are in the
    /// channel. Completes when the client is disposed.
    /// </summary>
    public ChannelReader<MqttMessage> Messages => _messages.Reader;

    /// <summary>What the broker granted at the most recent successful connect, or null.</summary>
    public MqttConnectResult? ConnectResult
    {
        get
        {
            lock (_gate)
            {
                return _connectResult;
            }
        }
    }

    /// <summary>Publishes accepted but not yet sent (the outgoing queue).</summary>
    public int OutgoingQueueCount
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>QoS 1/2 publishes sent and not yet fully acknowledged.</summary>
    public int InflightCount
    {
        get
        {
            lock (_gate)
            {
                return _inflight.Count;
            }
        }
    }

    /// <summary>
    /// Connects to the broker: TCP, TLS when configured, CONNECT and CONNACK. With MQTT 5.0 asked
    /// for and <see cref="MqttClientOptions.AllowProtocolFallback"/>, a broker that refuses 5.0 is
    /// retried with 3.1.1. Makes one attempt; after success, lost connections are re-established
    /// automatically (<see cref="MqttClientOptions.AutoReconnect"/>). Unacknowledged publishes of a
    /// persistent session are resent, and subscriptions are renewed if the broker lost the session.
    /// </summary>
    /// <returns>What the broker granted.</returns>
    /// <exception cref="MqttException">Code <see cref="MqttErrorCode.ConnectionRefused"/> with the broker's <see cref="MqttException.ReasonCode"/>
    /// (e.g. <see cref="MqttReasonCode.BadUserNameOrPassword"/>); <see cref="MqttErrorCode.InvalidState"/> when already connected.</exception>
    /// <exception cref="MqttTransportException">TCP, TLS or timeout failure.</exception>
    /// <exception cref="MqttProtocolException">The broker's answer broke the protocol.</exception>
    public async Task<MqttConnectResult> ConnectAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_state != MqttConnectionState.Disconnected)
            {
                throw new MqttException(MqttErrorCode.InvalidState, $"ConnectAsync called in state {_state}; disconnect first.");
            }

            SetState(MqttConnectionState.Connecting, null);
        }

        try
        {
            (MqttLink link, byte[] leftover) = await EstablishAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                if (_state != MqttConnectionState.Connecting)
                {
                    // DisconnectAsync or DisposeAsync ran meanwhile: honour it.
                    link.Dispose();
                    throw new MqttException(MqttErrorCode.ClientClosed, $"The client was {_state.ToString().ToLowerInvariant()} while connecting.");
                }

                _wantConnected = true;
            }

            await ActivateLinkAsync(link, leftover).ConfigureAwait(false);
            lock (_gate)
            {
                return _connectResult!;
            }
        }
        catch (Exception exception)
        {
            lock (_gate)
            {
                _wantConnected = false;
                if (_state != MqttConnectionState.Disposed)
                {
                    _link?.Close();
                    _link = null;
                    SetState(MqttConnectionState.Disconnected, exception);
                }
            }

            throw;
        }
    }

    /// <summary>
    /// Sends DISCONNECT after everything already encoded is written, then closes the connection and
    /// stops reconnecting. Publishes still queued or unacknowledged fail with
    /// <see cref="MqttErrorCode.ClientClosed"/> (those already sent may still be delivered). The
    /// Last Will is not published. Idempotent.
    /// </summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        MqttLink? link;
        lock (_gate)
        {
            if (_state == MqttConnectionState.Disposed)
            {
                return;
            }

            _wantConnected = false;
            link = _link;
            _link = null;

            // Stop a reconnect attempt at once instead of waiting out its connect timeout.
            _reconnectStop.Cancel();
            _reconnectStop = new CancellationTokenSource();
            if (link is not null)
            {
                using var buffer = new MqttBufferWriter(16);
                MqttPacketWriter.WriteDisconnect(buffer, new MqttDisconnectPacket(), link.Version);
                link.Pending.WriteBytes(buffer.WrittenSpan);
                link.DrainRequested = true;
                link.SignalWriter();
            }
        }

        if (link is not null)
        {
            try
            {
                await link.Drained.Task.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                // The broker closes the connection once it has read DISCONNECT and everything before
                // it (acknowledgements included). Closing first could reset the connection and the
                // broker drop what it had not read yet: acknowledged messages would come back.
                await link.ReadEnded.Task.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The broker is not reading; close without waiting further (the Will may then be sent).
            }
            finally
            {
                link.Close();
            }
        }

        lock (_gate)
        {
            var closed = new MqttException(MqttErrorCode.ClientClosed, "The client was disconnected before the operation completed.");
            FailSession(closed);
            if (_state != MqttConnectionState.Disposed)
            {
                SetState(MqttConnectionState.Disconnected, null);
            }
        }

        await _reconnectTask.ConfigureAwait(false);
    }

    /// <summary>Disconnects cleanly (see <see cref="DisconnectAsync"/>), completes <see cref="Messages"/> and releases everything.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_state == MqttConnectionState.Disposed)
            {
                return;
            }
        }

        await DisconnectAsync().ConfigureAwait(false);
        lock (_gate)
        {
            SetState(MqttConnectionState.Disposed, null);
        }

        _lifetime.Cancel();
        await _reconnectTask.ConfigureAwait(false);
        _messages.Writer.TryComplete();
        _stateEvents.Writer.TryComplete();
        await _stateEventPump.ConfigureAwait(false);
        _lifetime.Dispose();
    }

    private void ThrowIfDisposed()
    {
        if (_state == MqttConnectionState.Disposed)
        {
            throw new MqttException(MqttErrorCode.ClientClosed, "The MQTT client is disposed.");
        }
    }

    /// <summary>Changes state and queues the event; call under the lock.</summary>
    private void SetState(MqttConnectionState state, Exception? reason)
    {
        if (_state == state)
        {
            return;
        }

        MqttConnectionState previous = _state;
        _state = state;
        _stateEvents.Writer.TryWrite(new MqttConnectionStateChangedEventArgs(previous, state, reason, DateTimeOffset.UtcNow));
    }

    private async Task PumpStateEventsAsync()
    {
        await foreach (MqttConnectionStateChangedEventArgs change in _stateEvents.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                ConnectionStateChanged?.Invoke(this, change);
            }
            catch (Exception exception)
            {
                Trace.TraceError($"MqttClient: a ConnectionStateChanged handler threw: {exception}");
            }
        }
    }

    /// <summary>Fails every queued, in-flight and control operation; call under the lock.</summary>
    private void FailSession(Exception reason)
    {
        while (_queue.TryDequeue(out MqttPublishOperation? queued))
        {
            queued.Fail(reason);
        }

        foreach (MqttPublishOperation operation in _inflight.Values)
        {
            operation.Fail(reason);
        }

        _inflight.Clear();
        FailControl(reason);
    }

    private void FailControl(Exception reason)
    {
        foreach (TaskCompletionSource<MqttSubAckPacket> control in _control.Values)
        {
            control.TrySetException(reason);
        }

        _control.Clear();
    }

    private ushort AllocatePacketId()
    {
        for (int i = 0; i < ushort.MaxValue; i++)
        {
            _nextPacketId = _nextPacketId == ushort.MaxValue ? (ushort)1 : (ushort)(_nextPacketId + 1);
            if (!_inflight.ContainsKey(_nextPacketId) && !_control.ContainsKey(_nextPacketId))
            {
                return _nextPacketId;
            }
        }

        throw new MqttException(MqttErrorCode.InvalidState, "All 65,535 packet identifiers are in use.");
    }
}
