using System.Threading.Tasks.Sources;

namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Wakes a link's writer loop when bytes are pending: an auto-reset event with one waiter, reused
/// for every wake-up. Unlike SemaphoreSlim.WaitAsync it allocates nothing per wait: the
/// continuation is queued to the thread pool with this object as the work item. The continuation
/// never runs inline in <see cref="Set"/>, which is called under the client's session lock.
/// </summary>
internal sealed class MqttWriteSignal : IValueTaskSource, IThreadPoolWorkItem
{
    private readonly object _lock = new();
    private Action<object?>? _continuation;
    private object? _continuationState;
    private bool _signaled;
    private bool _waiting;
    private bool _completed;
    private bool _closed;
    private short _version;

    /// <summary>Completes at once if a signal is pending, else when <see cref="Set"/> or <see cref="Close"/> is called. One waiter at a time.</summary>
    public ValueTask WaitAsync()
    {
        lock (_lock)
        {
            if (_closed)
            {
                return ValueTask.FromException(new OperationCanceledException("The link is closed."));
            }

            if (_signaled)
            {
                _signaled = false;
                return ValueTask.CompletedTask;
            }

            _waiting = true;
            _completed = false;
            return new ValueTask(this, _version);
        }
    }

    public void Set()
    {
        lock (_lock)
        {
            if (_waiting && !_completed)
            {
                Complete();
            }
            else if (!_waiting)
            {
                _signaled = true;
            }
        }
    }

    /// <summary>Wakes the waiter with cancellation; later waits fail at once.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            if (_waiting && !_completed)
            {
                Complete();
            }
        }
    }

    public ValueTaskSourceStatus GetStatus(short token)
    {
        lock (_lock)
        {
            if (!_completed)
            {
                return ValueTaskSourceStatus.Pending;
            }

            return _closed ? ValueTaskSourceStatus.Canceled : ValueTaskSourceStatus.Succeeded;
        }
    }

    public void GetResult(short token)
    {
        lock (_lock)
        {
            if (token != _version)
            {
                throw new InvalidOperationException("The signal's wait was already consumed.");
            }

            _version++;
            _waiting = false;
            _completed = false;
            if (_closed)
            {
                throw new OperationCanceledException("The link is closed.");
            }
        }
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        lock (_lock)
        {
            _continuation = continuation;
            _continuationState = state;
            if (_completed)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        Action<object?>? continuation;
        object? state;
        lock (_lock)
        {
            continuation = _continuation;
            state = _continuationState;
            _continuation = null;
            _continuationState = null;
        }

        continuation?.Invoke(state);
    }

    private void Complete()
    {
        _completed = true;
        if (_continuation is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }
}
