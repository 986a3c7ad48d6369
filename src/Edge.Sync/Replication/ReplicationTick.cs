using System.Threading.Channels;
using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Replication;

/// <summary>
/// The pause between two turns of a replication loop: until a message arrives on the client's
/// channel or the tick interval elapses, whichever comes first.
/// </summary>
/// <remarks>
/// One <see cref="ChannelReader{T}.WaitToReadAsync"/> stays outstanding across ticks instead of a
/// wait cancelled at every tick: on .NET 9 (the runtime of the AOT binary) a cancelled waiter stays
/// queued in the channel until the next message is written (dotnet/runtime#761, fixed in .NET 10
/// by #116021), and a leader with no replica receives none, so a 5 ms tick retained about 100 KB/s.
/// Not thread-safe: one loop.
/// </remarks>
internal sealed class ReplicationTick
{
    private readonly ChannelReader<MqttMessage> _messages;
    private readonly TimeSpan _interval;
    private Task<bool>? _pending;
    private long _ticks;
    private long _waitsStarted;

    /// <summary>Creates the tick over <paramref name="messages"/>.</summary>
    public ReplicationTick(ChannelReader<MqttMessage> messages, TimeSpan interval)
    {
        _messages = messages;
        _interval = interval;
    }

    /// <summary>Pauses taken.</summary>
    public long Ticks => Interlocked.Read(ref _ticks);

    /// <summary>Waits started on the channel: one per message burst received, not one per tick.</summary>
    public long WaitsStarted => Interlocked.Read(ref _waitsStarted);

    /// <summary>Returns when a message can be read or the interval elapsed; never throws on <paramref name="stop"/>.</summary>
    public async Task WaitAsync(CancellationToken stop)
    {
        Interlocked.Increment(ref _ticks);
        if (_pending is null)
        {
            _pending = _messages.WaitToReadAsync(stop).AsTask();
            Interlocked.Increment(ref _waitsStarted);
        }

        Task delay = Task.Delay(_interval, stop);
        await Task.WhenAny(_pending, delay).ConfigureAwait(false);
        if (_pending.IsCompleted)
        {
            bool readable = _pending.IsCompletedSuccessfully && _pending.Result;
            _pending = null;
            if (readable)
            {
                return;
            }
        }

        try
        {
            // Closed channel (client disposed) or stopping: keep the pace instead of spinning.
            await delay.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
