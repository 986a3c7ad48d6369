using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// A QoS 1/2 publish (or a queued QoS 0 one) in the client's session, and the awaitable the caller
/// holds. Pooled: it returns to the pool when the caller has read its result, so a steady stream of
/// publishes allocates nothing. Fields are guarded by the client's session lock.
/// </summary>
internal sealed class MqttPublishOperation : IValueTaskSource, IThreadPoolWorkItem
{
    // Marks "completed" in _continuation: whoever comes second (completion or OnCompleted) schedules.
    private static readonly Action<object?> s_completedSentinel = static _ => { };

    private const int PoolCountMax = 4096;
    private static readonly ConcurrentQueue<MqttPublishOperation> s_pool = new();
    private static int s_pooledCount;

    private Action<object?>? _continuation;
    private object? _continuationState;
    private Exception? _exception;
    private volatile bool _completed;
    private short _version;

    public string Topic { get; private set; } = string.Empty;

    public int TopicByteCount { get; private set; }

    public ReadOnlyMemory<byte> Payload { get; private set; }

    public MqttQualityOfService QualityOfService { get; private set; }

    public bool Retain { get; private set; }

    public MqttPublishProperties? Properties { get; private set; }

    /// <summary>Assigned when first sent; kept across reconnects for the resend with DUP.</summary>
    public ushort PacketId { get; set; }

    /// <summary>Acceptance order; resends after a reconnect follow it.</summary>
    public long Sequence { get; private set; }

    /// <summary>QoS 2: PUBREC received, PUBREL sent, waiting for PUBCOMP.</summary>
    public bool Released { get; set; }

    public short Token => _version;

    public static MqttPublishOperation Rent(string topic, int topicByteCount, ReadOnlyMemory<byte> payload, MqttQualityOfService qos, bool retain, MqttPublishProperties? properties, long sequence)
    {
        if (s_pool.TryDequeue(out MqttPublishOperation? operation))
        {
            Interlocked.Decrement(ref s_pooledCount);
        }
        else
        {
            operation = new MqttPublishOperation();
        }

        operation.Topic = topic;
        operation.TopicByteCount = topicByteCount;
        operation.Payload = payload;
        operation.QualityOfService = qos;
        operation.Retain = retain;
        operation.Properties = properties;
        operation.Sequence = sequence;
        operation.PacketId = 0;
        operation.Released = false;
        return operation;
    }

    /// <summary>Completes successfully. The awaiting continuation runs on the thread pool, never inline (callers hold the session lock).</summary>
    public void Complete() => Finish(null);

    public void Fail(Exception exception) => Finish(exception);

    public void GetResult(short token)
    {
        if (token != _version || !_completed)
        {
            throw new InvalidOperationException("A publish's ValueTask was awaited twice or before it completed.");
        }

        Exception? exception = _exception;
        Return();
        if (exception is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(exception);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token)
    {
        if (!_completed)
        {
            return ValueTaskSourceStatus.Pending;
        }

        return _exception is null ? ValueTaskSourceStatus.Succeeded : ValueTaskSourceStatus.Faulted;
    }

    /// <remarks>
    /// Continuations are queued with this object as the thread-pool work item, so completing a
    /// publish allocates nothing. The execution and synchronization contexts are not captured: the
    /// async method builder restores the execution context itself, and continuations run on the
    /// thread pool as with ConfigureAwait(false).
    /// </remarks>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        _continuationState = state;
        Action<object?>? previous = Interlocked.CompareExchange(ref _continuation, continuation, null);
        if (ReferenceEquals(previous, s_completedSentinel))
        {
            _continuation = continuation;
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute() => _continuation!(_continuationState);

    private void Finish(Exception? exception)
    {
        _exception = exception;
        _completed = true;
        Action<object?>? previous = Interlocked.Exchange(ref _continuation, s_completedSentinel);
        if (previous is not null && !ReferenceEquals(previous, s_completedSentinel))
        {
            _continuation = previous;
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    private void Return()
    {
        // Drop references to the caller's payload before pooling.
        Topic = string.Empty;
        Payload = default;
        Properties = null;
        _exception = null;
        _continuation = null;
        _continuationState = null;
        _completed = false;
        _version++;
        if (Interlocked.Increment(ref s_pooledCount) <= PoolCountMax)
        {
            s_pool.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref s_pooledCount);
        }
    }
}
