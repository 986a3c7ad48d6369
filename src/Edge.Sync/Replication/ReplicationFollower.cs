using CortexEdge.Core;
using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Replication;

/// <summary>
/// A read replica as a service: opens the replica database (local writes refused, naming the
/// leader), subscribes to <c>ce/{fleet}/repl/{name}</c>, reports its position on
/// <c>ce/{fleet}/repl-status/{name}</c>, and runs a <see cref="ReplicaProtocol"/> on one loop thread.
/// Reads go to <see cref="Database"/> (re-read it: a snapshot install reopens the database).
/// Thread-safe members: <see cref="GetStatus"/>, <see cref="Database"/>, <see cref="Halted"/>.
/// </summary>
public sealed class ReplicationFollower : IAsyncDisposable
{
    private readonly MqttClientOptions _mqttOptions;
    private readonly string _fleet;
    private readonly string _name;
    private readonly EdgeDatabaseReplicaStore _store;
    private readonly ReplicaProtocol _protocol;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _halted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private MqttClient? _client;
    private CancellationTokenSource? _stop;
    private Task? _loop;

    /// <summary>Opens the replica database in <paramref name="directory"/> (creating it when absent).</summary>
    public ReplicationFollower(string directory, MqttClientOptions mqttOptions, string fleet, string name, ReplicationOptions? options = null, EdgeDatabaseOptions? databaseOptions = null)
    {
        ArgumentNullException.ThrowIfNull(mqttOptions);
        ReplicationTopics.ValidateLevel(fleet, nameof(fleet));
        ReplicationTopics.ValidateLevel(name, nameof(name));
        _mqttOptions = mqttOptions;
        _fleet = fleet;
        _name = name;
        _store = new EdgeDatabaseReplicaStore(directory, $"fleet '{fleet}' leader via broker {mqttOptions.Host}:{mqttOptions.Port}", databaseOptions);
        _protocol = new ReplicaProtocol(_store, name, options);
    }

    /// <summary>The replica database, for reads (a consistent prefix of the leader's history).</summary>
    public EdgeDatabase Database => _store.Database;

    /// <summary>Completes when the replica halts (its exception is the divergence).</summary>
    public Task Halted => _halted.Task;

    /// <summary>The replica's status now.</summary>
    public ReplicaStatus GetStatus()
    {
        lock (_lock)
        {
            return _protocol.GetStatus(Environment.TickCount64);
        }
    }

    /// <summary>Connects and starts following.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("the replica is already started");
        }

        _client = new MqttClient(_mqttOptions);
        await _client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await _client.SubscribeAsync(ReplicationTopics.Stream(_fleet, _name), MqttQualityOfService.AtMostOnce, cancellationToken).ConfigureAwait(false);
        _stop = new CancellationTokenSource();
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Stops following and disconnects (the database stays open until disposal).</summary>
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
        await _client!.DisposeAsync().ConfigureAwait(false);
        _client = null;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var output = new List<byte[]>();
        MqttClient client = _client!;
        // One channel wait outstanding across ticks, not one cancelled per tick (ReplicationTick).
        var tick = new ReplicationTick(client.Messages, TimeSpan.FromMilliseconds(5));
        string statusTopic = ReplicationTopics.Status(_fleet, _name);
        while (!stop.IsCancellationRequested)
        {
            long now = Environment.TickCount64;
            lock (_lock)
            {
                while (client.Messages.TryRead(out MqttMessage? message))
                {
                    _protocol.Receive(message.Payload.Span, now, output);
                }

                _protocol.Tick(now, output);
            }

            if (_protocol.Divergence is { } divergence)
            {
                _halted.TrySetException(divergence);
            }

            foreach (byte[] frame in output)
            {
                try
                {
                    await client.PublishAsync(statusTopic, frame, MqttQualityOfService.AtMostOnce, cancellationToken: stop).ConfigureAwait(false);
                }
                catch (MqttException)
                {
                    break; // the next status interval reports again
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
            }

            output.Clear();
            await tick.WaitAsync(stop).ConfigureAwait(false);
        }
    }

    /// <summary>Stops and closes the replica database.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _store.Dispose();
    }
}
