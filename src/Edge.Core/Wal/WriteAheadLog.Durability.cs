using System.Threading.Tasks.Sources;

namespace CortexEdge.Core.Wal;

/// <summary>Flushing, group commit and durable waits.</summary>
public sealed partial class WriteAheadLog
{
    private readonly Lock _flushLock = new();
    private readonly Lock _waiterLock = new();
    private const int WaiterPoolCountMax = 1024;
    private readonly List<DurableWaiter> _waiters = [];          // guarded by _waiterLock
    private readonly Stack<DurableWaiter> _waiterPool = new();   // guarded by _waiterLock
    private readonly List<(WalSegment Segment, long EndOffset)> _flushBatch = []; // guarded by _flushLock
    private readonly SemaphoreSlim _flushSignal = new(0);
    private int _flusherIdle; // 1 while the flusher sleeps with nothing to flush
    private int _waiterCount;          // _waiters.Count, readable without the lock (cohort wait)
    private int _lastReleasedCount;    // waiters the last flush completed: the cohort whose last writer leads the next flush
    private readonly TimeSpan _cohortWait; // WalOptions.GroupCohortWait
    // Set once when the flusher stops; the cohort wait sleeps on it (flush requests must not cut it short).
    private readonly ManualResetEventSlim _stopEvent = new(false, spinCount: 0);

    /// <summary>Wakes a flusher sleeping with nothing to flush; called by every append (one read when busy).</summary>
    private void WakeIdleFlusher()
    {
        if (Volatile.Read(ref _flusherIdle) == 1 && Interlocked.Exchange(ref _flusherIdle, 0) == 1)
        {
            _flushSignal.Release();
        }
    }
    private List<DurableWaiter>? _spareReleased = [];
    private long _durableLsn;
    private int _flushRequested;
    private volatile bool _stopping;
    private Thread? _flusherThread;
    private long _flushCount;

    /// <summary>Highest LSN covered by a completed flush: survives a power loss.</summary>
    public long DurableLsn => Volatile.Read(ref _durableLsn);

    /// <summary>Number of flushes completed since the log was opened (group commit makes it smaller than the number of waits).</summary>
    public long FlushCount => Volatile.Read(ref _flushCount);

    /// <summary>
    /// Completes when record <paramref name="lsn"/> is acknowledged in the log's durability mode:
    /// <see cref="WalDurabilityMode.None"/> and <see cref="WalDurabilityMode.Periodic"/> at once;
    /// <see cref="WalDurabilityMode.Group"/> after the group flush covering it (one flush serves every
    /// writer that arrived while the previous flush ran); <see cref="WalDurabilityMode.Always"/> after a
    /// flush run now on the calling thread.
    /// </summary>
    /// <remarks>
    /// Group mode: the call that completes a cohort of writers runs the group's flush itself, on the
    /// calling thread, and returns completed (see <see cref="TryLeadFlush"/>); other calls return at
    /// once. Continuations run on the thread pool, never inside a flush, so user code cannot stall or
    /// deadlock one. The returned ValueTask is pooled: await it once.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lsn"/> was not appended yet.</exception>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.WalFaulted"/> when the flush covering
    /// <paramref name="lsn"/> failed (the record is not acknowledged and may be lost).</exception>
    /// <exception cref="OperationCanceledException">The wait was canceled (the record may still become durable).</exception>
    public ValueTask WaitForDurableAsync(long lsn, CancellationToken cancellationToken = default)
    {
        if (lsn <= Volatile.Read(ref _durableLsn))
        {
            return ValueTask.CompletedTask;
        }

        if (lsn > LastLsn)
        {
            return ValueTask.FromException(new ArgumentOutOfRangeException(nameof(lsn), lsn, $"LSN {lsn} has not been appended (last LSN {LastLsn})"));
        }

        if (_fault is { } fault)
        {
            return ValueTask.FromException(FaultedError(fault));
        }

        switch (_durability.Mode)
        {
            case WalDurabilityMode.None:
            case WalDurabilityMode.Periodic:
                return ValueTask.CompletedTask;
            case WalDurabilityMode.Always:
                return FlushNow();
            default:
                return WaitForGroupFlush(lsn, cancellationToken);
        }
    }

    /// <summary>
    /// Makes every record appended so far durable, in any durability mode, running the flush on the
    /// calling thread (or waiting for the one under way).
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.WalFaulted"/> when the flush (or an earlier one) failed.</exception>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return FlushNow();
    }

    private ValueTask FlushNow()
    {
        try
        {
            FlushCore();
            return ValueTask.CompletedTask;
        }
        catch (EdgeException ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    private ValueTask WaitForGroupFlush(long lsn, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        DurableWaiter waiter;
        bool lead;
        lock (_waiterLock)
        {
            // Checked again under the lock the flusher completes and faults waiters under: no lost wake-up.
            if (lsn <= _durableLsn)
            {
                return ValueTask.CompletedTask;
            }

            if (_fault is { } fault)
            {
                return ValueTask.FromException(FaultedError(fault));
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            waiter = _waiterPool.Count > 0 ? _waiterPool.Pop() : new DurableWaiter(this);
            waiter.Arm(lsn);
            _waiters.Add(waiter);
            Volatile.Write(ref _waiterCount, _waiters.Count);
            lead = _lastReleasedCount > 1 && _waiters.Count >= _lastReleasedCount;
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.RegisterCancellation(cancellationToken);
        }

        if (!lead || !TryLeadFlush())
        {
            RequestFlush();
        }

        return new ValueTask(waiter, waiter.Version);
    }

    /// <summary>
    /// Group commit's leader: the writer that completes the cohort (as many waiters as the last flush
    /// released, when that was several) runs the flush on its own thread, at once, instead of waking
    /// the flusher and waiting for it. The writers a flush releases usually write again at once, so the
    /// cohort comes back whole and each flush covers all of it; no thread spins for it. A lone writer
    /// never leads: it would loop on its own thread, each write flushed synchronously, and starve the
    /// thread pool's other work. False if a flush is under way: the caller then asks the flusher.
    /// </summary>
    private bool TryLeadFlush()
    {
        if (!_flushLock.TryEnter())
        {
            return false;
        }

        try
        {
            FlushCore();
        }
        catch (EdgeException)
        {
            // FlushCore failed every waiter it covered, this one included, and faulted the log.
        }
        finally
        {
            _flushLock.Exit();
        }

        return true;
    }

    /// <summary>Removes a canceled waiter that is still queued; false if a flush or fault already took it.</summary>
    private bool TryRemoveWaiter(DurableWaiter waiter)
    {
        lock (_waiterLock)
        {
            bool removed = _waiters.Remove(waiter);
            Volatile.Write(ref _waiterCount, _waiters.Count);
            return removed;
        }
    }

    private void ReturnWaiter(DurableWaiter waiter)
    {
        lock (_waiterLock)
        {
            if (_waiterPool.Count < WaiterPoolCountMax)
            {
                _waiterPool.Push(waiter);
            }
        }
    }

    private void RequestFlush()
    {
        if (Interlocked.Exchange(ref _flushRequested, 1) == 0)
        {
            _flushSignal.Release();
        }
    }

    /// <summary>
    /// Flushes every record appended up to now. Serialized by the flush lock; the append lock is held
    /// only to snapshot the dirty ranges, so appends go on during the msync. On failure the log
    /// faults: the covered waiters fail, later appends are refused, nothing is retried. Waiters are
    /// completed after every lock is released: their continuations may run inline and append again.
    /// </summary>
    private void FlushCore()
    {
        List<DurableWaiter> released = Interlocked.Exchange(ref _spareReleased, null) ?? [];
        EdgeException? failure = null;
        try
        {
            lock (_flushLock)
            {
                if (_fault is { } fault)
                {
                    ThrowFaulted(fault);
                }

                long target;
                lock (_appendLock)
                {
                    target = _lastLsn;
                    if (target <= _durableLsn || _disposed)
                    {
                        return;
                    }

                    foreach (WalSegment segment in _segments)
                    {
                        long end = segment.PublishedOffset;
                        if (end > segment.FlushedOffset && segment.TryAddReference())
                        {
                            _flushBatch.Add((segment, end));
                        }
                    }
                }

                try
                {
                    foreach ((WalSegment segment, long end) in _flushBatch)
                    {
                        segment.FlushTo(end, _pageSize);
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    failure = ex as EdgeException ?? new EdgeException(EdgeErrorCode.WalIoError, $"WAL flush failed: {ex.Message}", ex);
                }
                finally
                {
                    foreach ((WalSegment segment, _) in _flushBatch)
                    {
                        segment.Release();
                    }

                    _flushBatch.Clear();
                }

                lock (_waiterLock)
                {
                    if (failure is null)
                    {
                        Interlocked.Increment(ref _flushCount);
                        Volatile.Write(ref _durableLsn, target);
                        TakeWaiters(target, released);
                        Volatile.Write(ref _lastReleasedCount, released.Count);
                    }
                    else
                    {
                        // Never retried: every waiter not yet durable is failed, now and for good.
                        _fault ??= failure;
                        TakeWaiters(long.MaxValue, released);
                    }
                }
            }
        }
        finally
        {
            Exception? error = failure is null ? null : FaultedError(failure);
            foreach (DurableWaiter waiter in released)
            {
                waiter.Complete(error);
            }

            released.Clear();
            _spareReleased = released;
        }

        // Writers that arrived during the flush (and could not lead it) are the flusher's now.
        if (Volatile.Read(ref _waiterCount) > 0)
        {
            RequestFlush();
        }

        if (failure is not null)
        {
            ThrowFaulted(failure);
        }
    }

    /// <summary>Moves the waiters at or below <paramref name="durableLsn"/> to <paramref name="released"/>. Caller holds the waiter lock.</summary>
    private void TakeWaiters(long durableLsn, List<DurableWaiter> released)
    {
        int kept = 0;
        for (int i = 0; i < _waiters.Count; i++)
        {
            DurableWaiter waiter = _waiters[i];
            if (waiter.Lsn <= durableLsn)
            {
                released.Add(waiter);
            }
            else
            {
                _waiters[kept++] = waiter;
            }
        }

        _waiters.RemoveRange(kept, _waiters.Count - kept);
        Volatile.Write(ref _waiterCount, kept);
    }

    private void FailWaiters(Exception error)
    {
        var released = new List<DurableWaiter>();
        lock (_waiterLock)
        {
            TakeWaiters(long.MaxValue, released);
        }

        foreach (DurableWaiter waiter in released)
        {
            waiter.Complete(error);
        }
    }

    private static EdgeException FaultedError(EdgeException cause) =>
        new(EdgeErrorCode.WalFaulted, $"WAL flush failed, so the records it covered are not acknowledged; the log refuses writes until it is reopened and recovered: {cause.Message}", cause);

    private void StartFlusher()
    {
        if (_durability.Mode is WalDurabilityMode.Group or WalDurabilityMode.Periodic)
        {
            _flusherThread = new Thread(FlusherLoop) { IsBackground = true, Name = "wal-flusher" };
            _flusherThread.Start();
        }
    }

    private void StopFlusher()
    {
        _stopping = true;
        _stopEvent.Set();
        if (_flusherThread is { } thread)
        {
            _flushSignal.Release();
            thread.Join();
        }

        // _flushSignal and _stopEvent are not disposed: a late waiter may still signal the first, and
        // neither holds an OS resource while its wait handle was never asked for.
    }

    /// <summary>
    /// Group: flushes what no leader flushed (see <see cref="TryLeadFlush"/>): at once when a waiter asks
    /// and no cohort is forming, else once its leader has made no progress for <see cref="WalOptions.GroupCohortWait"/>
    /// (a cohort that does not come back whole shrinks the next one); and at the latest one interval
    /// after an unflushed append. Periodic: flushes every interval.
    /// </summary>
    /// <remarks>
    /// With nothing to flush the flusher sleeps until an append wakes it: an idle gateway must not
    /// wake its CPU every interval for nothing. It never spins: on a two-core board a spinning flusher
    /// takes the core the writers it waits for need.
    /// </remarks>
    private void FlusherLoop()
    {
        TimeSpan interval = _durability.Interval;
        bool group = _durability.Mode == WalDurabilityMode.Group;
        while (!_stopping)
        {
            if (LastLsn <= DurableLsn)
            {
                Volatile.Write(ref _flusherIdle, 1);
                // Re-check after announcing idleness so an append in between is not missed.
                if (LastLsn <= DurableLsn)
                {
                    _flushSignal.Wait();
                }

                Volatile.Write(ref _flusherIdle, 0);
                if (_stopping)
                {
                    return;
                }
            }

            if (!group)
            {
                _flushSignal.Wait(interval);
            }
            else if (Volatile.Read(ref _waiterCount) == 0)
            {
                // Requests left over from waiters already served must not cut the interval short (the
                // flusher would flush the next writer's record between its append and its wait). A
                // waiter counted before the drain is seen by the check after it.
                while (_flushSignal.Wait(0))
                {
                }

                if (Volatile.Read(ref _waiterCount) == 0)
                {
                    _flushSignal.Wait(interval);
                }
            }

            if (_stopping)
            {
                return;
            }

            if (group && LeaderProgressing())
            {
                continue;
            }

            Interlocked.Exchange(ref _flushRequested, 0);
            if (_fault is not null)
            {
                return;
            }

            if (LastLsn <= DurableLsn)
            {
                continue;
            }

            if (!TryLeadFlush())
            {
                // A leader (or an explicit flush) is under way; when it ends it asks again for the
                // writers left waiting. Queueing behind it would flush the first one it releases alone.
                _flushSignal.Wait(interval);
                continue;
            }

            if (_fault is not null)
            {
                // The flush failed (FlushCore throws only with the fault recorded, and the fault is
                // never cleared): the waiters are already failed and appends now report it.
                return;
            }
        }
    }

    /// <summary>
    /// While waiters form a cohort (fewer than the last flush released), gives its leader one cohort
    /// wait: true if a flush completed meanwhile (the leaders keep up; the flusher stays out of their
    /// batches), false if the flusher should flush now. The request flag stays set during the wait,
    /// so the writers arriving meanwhile do not signal the flusher again.
    /// </summary>
    private bool LeaderProgressing()
    {
        int waiting = Volatile.Read(ref _waiterCount);
        if (waiting == 0 || waiting >= Volatile.Read(ref _lastReleasedCount))
        {
            return false;
        }

        long flushes = FlushCount;
        _stopEvent.Wait(_cohortWait);
        return FlushCount != flushes && !_stopping;
    }

    /// <summary>
    /// A pooled wait for one LSN (no allocation per wait once the pool is warm). Completed exactly
    /// once, by the flush that covers it, by a fault, or by cancellation when still queued.
    /// </summary>
    private sealed class DurableWaiter(WriteAheadLog log) : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenRegistration _registration;
        private int _completed;

        public long Lsn { get; private set; }

        public short Version => _core.Version;

        public void Arm(long lsn)
        {
            Lsn = lsn;
            _completed = 0;
        }

        public void RegisterCancellation(CancellationToken cancellationToken) =>
            _registration = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var waiter = (DurableWaiter)state!;
                if (waiter.Owner.TryRemoveWaiter(waiter))
                {
                    waiter.Complete(new OperationCanceledException("the wait for a durable WAL record was canceled; the record may still become durable", token));
                }
            }, this);

        private WriteAheadLog Owner => log;

        public void Complete(Exception? error)
        {
            if (Interlocked.Exchange(ref _completed, 1) != 0)
            {
                return;
            }

            if (error is null)
            {
                _core.SetResult(true);
            }
            else
            {
                _core.SetException(error);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        public void GetResult(short token)
        {
            if (token != _core.Version)
            {
                throw new InvalidOperationException("a durable-wait ValueTask was awaited twice or after it was recycled");
            }

            try
            {
                _core.GetResult(token);
            }
            finally
            {
                _registration.Dispose();
                _registration = default;
                _core.Reset();
                log.ReturnWaiter(this);
            }
        }
    }
}
