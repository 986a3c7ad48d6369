using System.Diagnostics;

namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// One established connection (after CONNACK): the stream, the negotiated limits, the send buffers
/// and the liveness clocks. A reconnect creates a new link; events from an old link are ignored.
/// <see cref="Pending"/> and <see cref="WriteSignaled"/> are guarded by the client's session lock;
/// <see cref="Writing"/> belongs to the writer loop.
/// </summary>
internal sealed class MqttLink : IDisposable
{
    private int _closed;

    public MqttLink(Stream stream, MqttProtocolVersion version, MqttConnAckPacket connAck, int outboundPacketSizeMax, int inflightCountMax, TimeSpan keepAlive, long generation)
    {
        Stream = stream;
        Version = version;
        ConnAck = connAck;
        OutboundPacketSizeMax = outboundPacketSizeMax;
        InflightCountMax = inflightCountMax;
        KeepAlive = keepAlive;
        Generation = generation;
        long now = Stopwatch.GetTimestamp();
        LastSentTimestamp = now;
        LastReceivedTimestamp = now;
    }

    public Stream Stream { get; }

    public MqttProtocolVersion Version { get; }

    public MqttConnAckPacket ConnAck { get; }

    /// <summary>Largest packet the broker accepts.</summary>
    public int OutboundPacketSizeMax { get; }

    /// <summary>QoS 1/2 publishes allowed in flight on this link.</summary>
    public int InflightCountMax { get; }

    public TimeSpan KeepAlive { get; }

    public long Generation { get; }

    public CancellationTokenSource Lifetime { get; } = new();

    public MqttBufferWriter Pending { get; private set; } = new(4096);

    public MqttBufferWriter Writing { get; private set; } = new(4096);

    public MqttWriteSignal WriteSignal { get; } = new();

    public bool WriteSignaled { get; set; }

    /// <summary>Set when DISCONNECT has been queued: the writer completes <see cref="Drained"/> once everything is written.</summary>
    public bool DrainRequested { get; set; }

    public TaskCompletionSource Drained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completed when the reader loop has ended (the broker closed the connection, or the link was closed).</summary>
    public TaskCompletionSource ReadEnded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long LastSentTimestamp;

    public long LastReceivedTimestamp;

    /// <summary>When the outstanding PINGREQ was queued; 0 when none is outstanding.</summary>
    public long PingSentTimestamp;

    /// <summary>True while the reader waits for room in the receive queue (the application is slow, not the link).</summary>
    public volatile bool DeliveryBlocked;

    public Task ReaderTask { get; set; } = Task.CompletedTask;

    public Task WriterTask { get; set; } = Task.CompletedTask;

    public Task KeepAliveTask { get; set; } = Task.CompletedTask;

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Swaps the pending and writing buffers (under the session lock) and returns the bytes to write.</summary>
    public MqttBufferWriter SwapBuffers()
    {
        (Pending, Writing) = (Writing, Pending);
        Pending.Clear();
        return Writing;
    }

    /// <summary>Wakes the writer; call under the session lock.</summary>
    public void SignalWriter()
    {
        if (!WriteSignaled)
        {
            WriteSignaled = true;
            WriteSignal.Set();
        }
    }

    /// <summary>Closes the stream and stops the loops. Idempotent; returns true for the first call.</summary>
    public bool Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return false;
        }

        Lifetime.Cancel();
        WriteSignal.Close();
        Stream.Dispose();
        Drained.TrySetResult();
        return true;
    }

    /// <summary>Returns the send buffers to the pool; call under the session lock once the writer loop has ended.</summary>
    public void ReleaseBuffers()
    {
        Pending.Dispose();
        Writing.Dispose();
    }

    public void Dispose()
    {
        Close();
        Lifetime.Dispose();
    }
}
