using CortexEdge.Core;
using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Replication;

/// <summary>
/// The leader side of replication as a service: hosts a <see cref="ReplicationLeaderProtocol"/> over
/// an open <see cref="EdgeDatabase"/> and an MQTT connection (see <see cref="ReplicationTopics"/>).
/// <see cref="StartAsync"/> connects, checks the retained leadership record (a newer epoch fences
/// this node: its database refuses writes) and runs one loop thread; <see cref="StopAsync"/> ends it.
/// Thread-safe members: <see cref="GetReplicas"/>, <see cref="AcknowledgeAsync"/>, <see cref="IsFenced"/>.
/// </summary>
public sealed class ReplicationLeader : IAsyncDisposable
{
    private readonly EdgeDatabase _database;
    private readonly MqttClientOptions _mqttOptions;
    private readonly string _fleet;
    private readonly ReplicationLeaderOptions _options;
    private readonly EdgeDatabaseReplicationSource _source;
    private readonly ReplicationLeaderProtocol _protocol;
    private readonly Lock _lock = new();
    private readonly List<(long Lsn, TaskCompletionSource Done)> _waiters = []; // guarded by _lock
    private IReadOnlyList<ReplicaProgress> _replicas = [];
    private MqttClient? _client;
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private ReplicationTick? _tick;

    /// <summary>The serving loop's pauses (ticks, and waits started on the client's channel); null before start.</summary>
    internal ReplicationTick? Tick => Volatile.Read(ref _tick);

    /// <summary>Creates the service (nothing runs until <see cref="StartAsync"/>).</summary>
    public ReplicationLeader(EdgeDatabase database, MqttClientOptions mqttOptions, string fleet, ReplicationLeaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(mqttOptions);
        ReplicationTopics.ValidateLevel(fleet, nameof(fleet));
        _database = database;
        _mqttOptions = mqttOptions;
        _fleet = fleet;
        _options = options ?? new ReplicationLeaderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.AckReplicaCount, 1, nameof(options));
        _source = new EdgeDatabaseReplicationSource(database);
        _protocol = new ReplicationLeaderProtocol(_source, _options.Protocol);
    }

    /// <summary>true once a newer epoch was seen: this node is no longer the leader and its database refuses writes.</summary>
    public bool IsFenced => Volatile.Read(ref _fenceReason) is not null;

    private string? _fenceReason;
    private int _fencing; // 1 once Fence has begun (it runs once)

    /// <summary>The replicas as last seen (updated by the loop).</summary>
    public IReadOnlyList<ReplicaProgress> GetReplicas() => Volatile.Read(ref _replicas);

    /// <summary>The replica holding the leader's WAL back, or null.</summary>
    public string? RetentionHolder { get; private set; }

    /// <summary>Connects, checks leadership, claims it, and starts streaming to replicas.</summary>
    /// <exception cref="ReplicationException"><see cref="ReplicationErrorCode.NotLeader"/> when the retained record names a newer epoch.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("the replication leader is already started");
        }

        _client = new MqttClient(_mqttOptions);
        await _client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await _client.SubscribeAsync(ReplicationTopics.Leadership(_fleet), MqttQualityOfService.AtLeastOnce, cancellationToken).ConfigureAwait(false);
        await _client.SubscribeAsync(ReplicationTopics.StatusFilter(_fleet), MqttQualityOfService.AtMostOnce, cancellationToken).ConfigureAwait(false);
        DateTime until = DateTime.UtcNow + _options.LeadershipWait;
        while (DateTime.UtcNow < until && !IsFenced)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(until - DateTime.UtcNow + TimeSpan.FromMilliseconds(1));
            try
            {
                MqttMessage message = await _client.Messages.ReadAsync(wait.Token).ConfigureAwait(false);
                Handle(message, Environment.TickCount64, []);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        if (IsFenced)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
            _client = null;
            throw new ReplicationException(ReplicationErrorCode.NotLeader, _fenceReason!);
        }

        await _client.PublishAsync(ReplicationTopics.Leadership(_fleet), ReplicationTopics.EncodeLeadership(_database.Wal.LogEpoch, _options.LeaderName),
            MqttQualityOfService.AtLeastOnce, retain: true, cancellationToken).ConfigureAwait(false);
        _stop = new CancellationTokenSource();
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Stops the loop and disconnects; retention holds are released.</summary>
    public async Task StopAsync()
    {
        if (_loop is null)
        {
            return;
        }

        await _stop!.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _loop = null;
        _stop.Dispose();
        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
            _client = null;
        }

        _source.Dispose();
        FailWaiters(new ReplicationException(ReplicationErrorCode.NotLeader, "the replication leader stopped"));
    }

    /// <summary>
    /// Completes when the write at <paramref name="lsn"/> is acknowledged in the configured mode: local
    /// durability, plus (replica-durable) <see cref="ReplicationLeaderOptions.AckReplicaCount"/> replicas reporting it durable.
    /// </summary>
    /// <exception cref="ReplicationException"><see cref="ReplicationErrorCode.NotLeader"/> (fenced: never acknowledge),
    /// <see cref="ReplicationErrorCode.ReplicaAckTimeout"/> (naming how many replicas hold it).</exception>
    public async ValueTask AcknowledgeAsync(long lsn, CancellationToken cancellationToken = default)
    {
        ThrowIfFenced();
        await _database.WaitForDurableAsync(lsn, cancellationToken).ConfigureAwait(false);
        ThrowIfFenced();
        if (_options.AckMode == ReplicationAckMode.LocalDurable)
        {
            return;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (CountDurable(lsn) >= _options.AckReplicaCount)
            {
                return;
            }

            _waiters.Add((lsn, done));
        }

        try
        {
            await done.Task.WaitAsync(_options.AckTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            lock (_lock)
            {
                _waiters.RemoveAll(w => w.Done == done);
            }

            throw new ReplicationException(ReplicationErrorCode.ReplicaAckTimeout,
                $"write at LSN {lsn} is durable at the leader but only {CountDurable(lsn)} of the required {_options.AckReplicaCount} replicas reported it durable within {_options.AckTimeout.TotalMilliseconds:0} ms");
        }
    }

    private int CountDurable(long lsn) => Volatile.Read(ref _replicas).Count(r => r.Mode != "halted" && r.DurableLsn >= lsn);

    private void ThrowIfFenced()
    {
        if (Volatile.Read(ref _fenceReason) is { } reason)
        {
            throw new ReplicationException(ReplicationErrorCode.NotLeader, $"this node is no longer the leader and acknowledges no write: {reason}");
        }
    }

    private void Fence(string reason)
    {
        if (Interlocked.Exchange(ref _fencing, 1) == 0)
        {
            _protocol.Fence(reason);
            _database.SetWriteFence($"fenced: {reason}");
            // Published last: whoever sees IsFenced also finds the database refusing writes.
            Volatile.Write(ref _fenceReason, reason);
            FailWaiters(new ReplicationException(ReplicationErrorCode.NotLeader, $"this node is no longer the leader: {reason}"));
        }
    }

    private void FailWaiters(Exception error)
    {
        lock (_lock)
        {
            foreach ((_, TaskCompletionSource done) in _waiters)
            {
                done.TrySetException(error);
            }

            _waiters.Clear();
        }
    }

    private void Handle(MqttMessage message, long nowMs, List<OutgoingFrame> output)
    {
        if (message.Topic == ReplicationTopics.Leadership(_fleet))
        {
            if (ReplicationTopics.TryDecodeLeadership(message.Payload.Span, out ulong epoch, out string name) && epoch > _database.Wal.LogEpoch)
            {
                Fence($"leadership record names '{name}' at epoch {epoch}, newer than this node's epoch {_database.Wal.LogEpoch}");
            }

            return;
        }

        _protocol.Receive(message.Payload.Span, nowMs, output);
        if (_protocol.FenceReason is { } reason)
        {
            Fence(reason);
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var output = new List<OutgoingFrame>();
        MqttClient client = _client!;
        var tick = new ReplicationTick(client.Messages, TimeSpan.FromMilliseconds(5));
        Volatile.Write(ref _tick, tick);
        while (!stop.IsCancellationRequested)
        {
            long now = Environment.TickCount64;
            while (client.Messages.TryRead(out MqttMessage? message))
            {
                Handle(message, now, output);
            }

            _protocol.Tick(now, output);
            foreach (OutgoingFrame frame in output)
            {
                try
                {
                    await client.PublishAsync(ReplicationTopics.Stream(_fleet, frame.ReplicaName), frame.Frame, MqttQualityOfService.AtMostOnce, cancellationToken: stop).ConfigureAwait(false);
                }
                catch (MqttException)
                {
                    break; // disconnected or queue full: the protocol resends after its retransmit interval
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
            }

            output.Clear();
            Volatile.Write(ref _replicas, _protocol.GetReplicas());
            RetentionHolder = _protocol.RetentionHolder;
            CompleteWaiters();
            await tick.WaitAsync(stop).ConfigureAwait(false);
        }
    }

    private void CompleteWaiters()
    {
        lock (_lock)
        {
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (CountDurable(_waiters[i].Lsn) >= _options.AckReplicaCount)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <inheritdoc cref="StopAsync"/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
