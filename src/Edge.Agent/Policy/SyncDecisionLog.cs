namespace CortexEdge.Agent.Policy;

/// <summary>
/// A bounded in-memory history of decision changes, newest last, for the agent's status output and
/// metrics. A decision is kept only when it differs from the previous one (another action or rule);
/// repeats are counted instead, so a day of unchanged decisions costs one entry. When full, the
/// oldest entry is dropped and counted. Thread safe.
/// </summary>
public sealed class SyncDecisionLog
{
    /// <summary>Default number of entries kept.</summary>
    public const int DefaultCapacity = 256;

    private readonly Lock _lock = new();
    private readonly SyncDecision[] _entries;
    private int _start;
    private int _count;
    private long _changeCount;
    private long _evaluationCount;
    private long _droppedCount;

    /// <summary>Creates a log keeping up to <paramref name="capacity"/> changes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is below 1.</exception>
    public SyncDecisionLog(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _entries = new SyncDecision[capacity];
    }

    /// <summary>How many changes the log keeps.</summary>
    public int Capacity => _entries.Length;

    /// <summary>Changes currently held.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _count;
        }
    }

    /// <summary>Decisions that differed from their predecessor, since creation (including dropped ones).</summary>
    public long ChangeCount
    {
        get
        {
            lock (_lock)
                return _changeCount;
        }
    }

    /// <summary>Decisions offered to <see cref="Record"/>, changed or not.</summary>
    public long EvaluationCount
    {
        get
        {
            lock (_lock)
                return _evaluationCount;
        }
    }

    /// <summary>Changes dropped because the log was full.</summary>
    public long DroppedCount
    {
        get
        {
            lock (_lock)
                return _droppedCount;
        }
    }

    /// <summary>The newest change, or <c>null</c> before the first.</summary>
    public SyncDecision? Latest
    {
        get
        {
            lock (_lock)
                return _count == 0 ? null : _entries[(_start + _count - 1) % _entries.Length];
        }
    }

    /// <summary>Offers a decision; returns true when it was a change and was added.</summary>
    public bool Record(SyncDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        lock (_lock)
        {
            _evaluationCount++;
            SyncDecision? latest = _count == 0 ? null : _entries[(_start + _count - 1) % _entries.Length];
            if (decision.IsSameDecisionAs(latest))
                return false;
            _changeCount++;
            if (_count == _entries.Length)
            {
                _entries[_start] = decision;
                _start = (_start + 1) % _entries.Length;
                _droppedCount++;
            }
            else
            {
                _entries[(_start + _count) % _entries.Length] = decision;
                _count++;
            }
            return true;
        }
    }

    /// <summary>The changes held, oldest first.</summary>
    public SyncDecision[] Snapshot()
    {
        lock (_lock)
        {
            var copy = new SyncDecision[_count];
            for (int i = 0; i < _count; i++)
                copy[i] = _entries[(_start + i) % _entries.Length];
            return copy;
        }
    }
}
