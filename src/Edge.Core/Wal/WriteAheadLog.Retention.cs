using System.Text;

namespace CortexEdge.Core.Wal;

/// <summary>Checkpoint LSN, retention holds, trimming of old segments, readers.</summary>
public sealed partial class WriteAheadLog
{
    private readonly Dictionary<string, long> _holds = new(StringComparer.Ordinal); // guarded by _appendLock
    private readonly Lock _trimLock = new();
    private long _firstLsn;
    private long _checkpointLsn;

    /// <summary>The highest LSN whose state is durable in the SQLite projection (0 before the first checkpoint).</summary>
    public long CheckpointLsn => Volatile.Read(ref _checkpointLsn);

    /// <summary>
    /// Records that the state up to <paramref name="lsn"/> is durable in SQLite, then deletes every
    /// segment whose records are all at or below it and below every retention hold. Never moves back.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lsn"/> is negative or past <see cref="LastLsn"/>.</exception>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.WalIoError"/> when a segment file cannot be deleted.</exception>
    public void SetCheckpointLsn(long lsn)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lsn);
        lock (_appendLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (lsn > _lastLsn)
            {
                throw new ArgumentOutOfRangeException(nameof(lsn), lsn, $"checkpoint LSN {lsn} is past the last appended LSN {_lastLsn}");
            }

            if (lsn > _checkpointLsn)
            {
                Volatile.Write(ref _checkpointLsn, lsn);
            }
        }

        Trim();
    }

    /// <summary>
    /// Sets (or moves) the hold named <paramref name="name"/>: records at or after
    /// <paramref name="keepFromLsn"/> are kept even once checkpointed (sync and replication use this
    /// for what upstream or followers have not acknowledged). Records already trimmed cannot come back:
    /// a hold below <see cref="FirstLsn"/> keeps everything still on disk. Holds live in memory only.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public void SetRetentionHold(string name, long keepFromLsn)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(keepFromLsn);
        lock (_appendLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _holds[name] = keepFromLsn;
        }

        Trim();
    }

    /// <summary>The retention holds in force (name -> keep-from LSN), as a snapshot.</summary>
    public IReadOnlyDictionary<string, long> GetRetentionHolds()
    {
        lock (_appendLock)
        {
            return new Dictionary<string, long>(_holds, StringComparer.Ordinal);
        }
    }

    /// <summary>First LSN of the segment after the one holding <paramref name="lsn"/>; 0 when that is the active segment (or <paramref name="lsn"/> is not on disk).</summary>
    internal long NextSegmentFirstLsn(long lsn)
    {
        lock (_appendLock)
        {
            for (int i = 0; i < _segments.Count - 1; i++)
            {
                if (_segments[i].FirstLsn <= lsn && lsn < _segments[i + 1].FirstLsn)
                {
                    return _segments[i + 1].FirstLsn;
                }
            }

            return 0;
        }
    }

    /// <summary>Removes a hold (no-op if absent) and trims what it was keeping.</summary>
    public void ReleaseRetentionHold(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        bool removed;
        lock (_appendLock)
        {
            removed = _holds.Remove(name);
        }

        if (removed)
        {
            Trim();
        }
    }

    /// <summary>
    /// Opens a reader positioned at <paramref name="fromLsn"/> (<see cref="LastLsn"/> + 1 reads only
    /// future records). The reader pins only the segment it is reading: trimming is never held up by
    /// it, and once it needs a segment that was trimmed it throws <see cref="EdgeErrorCode.WalPositionTrimmed"/>.
    /// Use <see cref="SetRetentionHold"/> to keep records for a slow reader.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.WalPositionTrimmed"/> when <paramref name="fromLsn"/> is below <see cref="FirstLsn"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromLsn"/> is past <see cref="LastLsn"/> + 1.</exception>
    public WalReader OpenReader(long fromLsn)
    {
        WalSegment segment;
        lock (_appendLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (fromLsn > _lastLsn + 1)
            {
                throw new ArgumentOutOfRangeException(nameof(fromLsn), fromLsn, $"cannot read from LSN {fromLsn}: the last appended LSN is {_lastLsn}");
            }

            segment = AcquireSegmentFor(fromLsn);
        }

        return new WalReader(this, segment, fromLsn);
    }

    /// <summary>Finds and pins the segment holding <paramref name="lsn"/> (or that will hold it). Caller holds the append lock.</summary>
    private WalSegment AcquireSegmentFor(long lsn)
    {
        if (lsn < _firstLsn)
        {
            throw new EdgeException(EdgeErrorCode.WalPositionTrimmed, $"WAL position LSN {lsn} was trimmed: the oldest record on disk is LSN {_firstLsn} (checkpoint LSN {_checkpointLsn})");
        }

        for (int i = _segments.Count - 1; i >= 0; i--)
        {
            if (_segments[i].FirstLsn <= lsn && _segments[i].TryAddReference())
            {
                return _segments[i];
            }
        }

        throw new InvalidOperationException($"no WAL segment holds LSN {lsn} although it is at or after the first LSN {_firstLsn}");
    }

    /// <summary>The segment that starts at <paramref name="firstLsn"/>, pinned, for a reader moving past a sealed segment.</summary>
    internal WalSegment NextSegmentForReader(long firstLsn)
    {
        lock (_appendLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return AcquireSegmentFor(firstLsn);
        }
    }

    private void Trim()
    {
        // One trim at a time keeps deletions in LSN order, so a crash leaves a contiguous log.
        lock (_trimLock)
        {
            List<WalSegment>? removed = null;
            lock (_appendLock)
            {
                long keepFrom = long.MaxValue;
                foreach (long hold in _holds.Values)
                {
                    keepFrom = Math.Min(keepFrom, hold);
                }

                while (_segments.Count > 1)
                {
                    long segmentLastLsn = _segments[1].FirstLsn - 1;
                    if (segmentLastLsn > _checkpointLsn || segmentLastLsn >= keepFrom)
                    {
                        break;
                    }

                    (removed ??= []).Add(_segments[0]);
                    Volatile.Write(ref _usedBytes, _usedBytes - _segments[0].LengthBytes);
                    _segments.RemoveAt(0);
                    Volatile.Write(ref _firstLsn, _segments[0].FirstLsn);
                }
            }

            if (removed is null)
            {
                return;
            }

            foreach (WalSegment segment in removed)
            {
                // Unlinking first is safe: a reader inside the segment keeps its mapping until it moves on.
                _fileSystem.Delete(segment.Path);
                segment.Release();
            }

            _fileSystem.SyncDirectory(_directory);
        }
    }

    private string DescribeHolds()
    {
        if (_holds.Count == 0)
        {
            return string.Empty;
        }

        var text = new StringBuilder(", retention holds:");
        foreach ((string name, long lsn) in _holds)
        {
            text.Append(' ').Append(name).Append(" from LSN ").Append(lsn);
        }

        return text.ToString();
    }
}
