using System.Diagnostics;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core.State;

/// <summary>
/// Applies WAL records to the SQLite projection in batches on its own thread. Per batch: the WAL is
/// flushed through the batch's last LSN (SQLite never runs ahead of the durable log), every record
/// is staged into its module, the modules write and the checkpoint LSN, origin sequence, clock and
/// version vector are stored in ONE transaction (synchronous=FULL), then the modules drop overlay
/// entries and the WAL may free segments (<see cref="WriteAheadLog.SetCheckpointLsn"/>).
/// </summary>
/// <remarks>
/// It reads the log through its own <see cref="WalReader"/> and the state through its own connection,
/// so readers (overlay or SQLite read connections) never block it. A failed checkpoint is retried
/// on the next cycle up to <see cref="FailureCountMax"/> times in a row, then reported as the fault.
/// </remarks>
internal sealed class Checkpointer : IDisposable
{
    public const int FailureCountMax = 5;

    private readonly WriteAheadLog _wal;
    private readonly StateStore _store;
    private readonly IStateModule?[] _modulesByKind;
    private readonly IReadOnlyList<IStateModule> _modules;
    private readonly ulong _replicaId;
    private readonly int _triggerRecordCount;
    private readonly int _batchRecordCountMax;
    private readonly TimeSpan _interval;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Lock _waiterLock = new();
    private readonly List<(long Lsn, TaskCompletionSource Completion)> _waiters = [];
    private readonly VersionVector _versions;
    private readonly Thread _thread;
    private WalReader? _reader;
    private long _checkpointLsn;
    private ulong _originSequence;
    private ulong _clockTime;
    private long _checkpointCount;
    private int _failureCount;
    private int _idle; // 1 while the thread sleeps with nothing to checkpoint
    private volatile bool _stopping;
    private volatile Exception? _fault;

    public Checkpointer(
        WriteAheadLog wal,
        StateStore store,
        IReadOnlyList<IStateModule> modules,
        IStateModule?[] modulesByKind,
        VersionVector checkpointedVersions,
        EdgeDatabaseOptions options)
    {
        _wal = wal;
        _store = store;
        _modules = modules;
        _modulesByKind = modulesByKind;
        _replicaId = store.ReplicaId;
        _checkpointLsn = store.CheckpointLsn;
        _originSequence = store.OriginSequence;
        _clockTime = store.ClockTime;
        _versions = checkpointedVersions.Clone();
        _triggerRecordCount = options.CheckpointRecordCount;
        _batchRecordCountMax = options.CheckpointBatchRecordCountMax;
        _interval = options.CheckpointInterval;
        _thread = new Thread(Run) { IsBackground = true, Name = "cortex-edge checkpointer" };
    }

    private const int BackgroundNiceValue = 10;

    /// <summary>Highest LSN durable in SQLite.</summary>
    public long CheckpointLsn => Volatile.Read(ref _checkpointLsn);

    /// <summary>Checkpoint transactions committed since open.</summary>
    public long CheckpointCount => Volatile.Read(ref _checkpointCount);

    /// <summary>The error that stopped checkpointing, or null.</summary>
    public Exception? Fault => _fault;

    public void Start() => _thread.Start();

    /// <summary>
    /// Called after every append (cheap): wakes a checkpointer sleeping with nothing to do, so the
    /// record is checkpointed within one interval, and wakes it at once when enough records wait.
    /// </summary>
    public void Nudge(long lastLsn)
    {
        if ((Volatile.Read(ref _idle) == 1 && Interlocked.Exchange(ref _idle, 0) == 1)
            || (lastLsn - Volatile.Read(ref _checkpointLsn) >= _triggerRecordCount && _signal.CurrentCount == 0))
        {
            _signal.Release();
        }
    }

    /// <summary>Completes once everything appended before the call is checkpointed.</summary>
    /// <exception cref="EdgeException">The checkpointer faulted.</exception>
    public Task CheckpointAsync(CancellationToken cancellationToken) => WaitForCheckpointAsync(_wal.LastLsn, cancellationToken);

    /// <summary>Completes once the checkpoint reaches <paramref name="lsn"/> (wakes the checkpointer).</summary>
    /// <exception cref="EdgeException">The checkpointer faulted.</exception>
    public Task WaitForCheckpointAsync(long lsn, CancellationToken cancellationToken)
    {
        if (lsn <= CheckpointLsn)
        {
            return Task.CompletedTask;
        }

        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiterLock)
        {
            if (_fault is { } fault)
            {
                return Task.FromException(Faulted(fault));
            }

            if (lsn <= CheckpointLsn)
            {
                return Task.CompletedTask;
            }

            _waiters.Add((lsn, completion));
        }

        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }

        return completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops the thread; with <paramref name="finalCheckpoint"/>, checkpoints everything first.</summary>
    public void Stop(bool finalCheckpoint)
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _signal.Release();
        _thread.Join();
        if (finalCheckpoint && _fault is null)
        {
            RunOnce();
        }

        FailWaiters(new ObjectDisposedException(nameof(EdgeDatabase), "the database was closed before the checkpoint"));
    }

    public void Dispose()
    {
        Stop(finalCheckpoint: false);
        _reader?.Dispose();
        _signal.Dispose();
    }

    /// <remarks>
    /// With nothing to checkpoint the thread sleeps until an append or a waiter wakes it: an idle
    /// gateway must not wake its CPU every interval for nothing. A failed checkpoint leaves records
    /// pending, so it is retried each interval as before.
    /// </remarks>
    private void Run()
    {
        // Background work yields the cores to writers (Linux nice values are per thread): on a
        // two-core board a checkpoint batch must not stretch the group commit cycle writers wait on.
        // It still gets idle time (flushes leave the CPU idle) and the lag bound stops writers when
        // it falls too far behind. Best effort: a failure leaves the default priority.
        _ = Wal.LinuxNative.SetPriority(Wal.LinuxNative.PriorityProcess, 0, BackgroundNiceValue);
        while (!_stopping)
        {
            bool wokeFromIdle = false;
            if (_wal.LastLsn <= CheckpointLsn)
            {
                wokeFromIdle = true;
                Volatile.Write(ref _idle, 1);
                // Re-check after announcing idleness so an append in between is not missed.
                if (_wal.LastLsn <= CheckpointLsn && !_stopping)
                {
                    _signal.Wait();
                }

                Volatile.Write(ref _idle, 0);
                if (_stopping)
                {
                    return;
                }
            }

            // A waiter (CheckpointAsync) may have been the one to wake us: it must not wait an interval.
            if (!(wokeFromIdle && HasWaiters()))
            {
                _signal.Wait(_interval);
            }

            if (_stopping)
            {
                return;
            }

            RunOnce();
        }
    }

    private bool HasWaiters()
    {
        lock (_waiterLock)
        {
            return _waiters.Count > 0;
        }
    }

    private void RunOnce()
    {
        if (_fault is not null)
        {
            return;
        }

        try
        {
            long target = _wal.LastLsn;
            while (CheckpointLsn < target && !(_stopping && Thread.CurrentThread == _thread))
            {
                // SQLite must never claim a record the log could still lose.
                _wal.FlushAsync().AsTask().GetAwaiter().GetResult();
                CheckpointBatch(target);
            }

            _failureCount = 0;
            CompleteWaiters();
        }
        catch (Exception exception) when (exception is EdgeException or SqliteException or IOException or InvalidOperationException)
        {
            foreach (IStateModule module in _modules)
            {
                module.AbortCheckpoint();
            }

            _reader?.Dispose();
            _reader = null;
            bool permanent = exception is EdgeCorruptionException
                || (exception is EdgeException edge && edge.Code is EdgeErrorCode.WalFaulted or EdgeErrorCode.StateModuleConflict)
                || ++_failureCount >= FailureCountMax;
            if (permanent)
            {
                _fault = exception;
                FailWaiters(Faulted(exception));
            }
        }
    }

    private void CheckpointBatch(long target)
    {
        long from = CheckpointLsn + 1;
        _reader ??= _wal.OpenReader(from);
        if (_reader.NextLsn != from)
        {
            throw new InvalidOperationException($"checkpoint reader at LSN {_reader.NextLsn}, expected {from}");
        }

        long last = CheckpointLsn;
        ulong originSequence = _originSequence;
        ulong clockTime = _clockTime;
        int staged = 0;
        while (last < target && staged < _batchRecordCountMax && _reader.TryRead(out WalRecord record))
        {
            Debug.Assert(record.Lsn == last + 1, "WAL reader returns dense LSNs");
            last = record.Lsn;
            staged++;
            if (record.Kind == WalRecordKind.Checkpoint)
            {
                continue;
            }

            StateRecord stateRecord = EdgeDatabase.ToStateRecord(record.Lsn, record.Kind, record.Payload);
            IStateModule module = EdgeDatabase.ModuleFor(_modulesByKind, record.Kind, record.Lsn);
            module.StageCheckpoint(stateRecord);
            OperationHeader header = stateRecord.Header;
            _versions.AdvanceTo(header.OriginReplicaId, header.OriginSequence);
            if (header.OriginReplicaId == _replicaId)
            {
                originSequence = Math.Max(originSequence, header.OriginSequence);
            }

            clockTime = Math.Max(clockTime, header.Timestamp.Time);
        }

        if (last == CheckpointLsn)
        {
            throw new InvalidOperationException($"checkpoint found no record after LSN {last} though the log ends at {target}");
        }

        SqliteConnection connection = _store.WriteConnection;
        using (SqliteTransaction transaction = connection.BeginTransaction())
        {
            foreach (IStateModule module in _modules)
            {
                module.WriteCheckpoint(connection, transaction, last);
            }

            _store.WriteCheckpointMeta(transaction, last, originSequence, clockTime);
            _store.WriteVersions(transaction, _versions);
            transaction.Commit();
        }

        foreach (IStateModule module in _modules)
        {
            module.CompleteCheckpoint(last);
        }

        _originSequence = originSequence;
        _clockTime = clockTime;
        Volatile.Write(ref _checkpointLsn, last);
        Interlocked.Increment(ref _checkpointCount);
        _wal.SetCheckpointLsn(last);
        CompleteWaiters();
    }

    private void CompleteWaiters()
    {
        long done = CheckpointLsn;
        lock (_waiterLock)
        {
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Lsn <= done)
                {
                    _waiters[i].Completion.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private void FailWaiters(Exception exception)
    {
        lock (_waiterLock)
        {
            foreach ((_, TaskCompletionSource completion) in _waiters)
            {
                completion.TrySetException(exception);
            }

            _waiters.Clear();
        }
    }

    private static EdgeException Faulted(Exception fault) =>
        new(EdgeErrorCode.DatabaseFaulted, $"Checkpointing stopped: {fault.Message}. Reopen the database to recover.", fault);
}
