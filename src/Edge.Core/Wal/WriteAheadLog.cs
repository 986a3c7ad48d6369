using System.Diagnostics.CodeAnalysis;

namespace CortexEdge.Core.Wal;

/// <summary>
/// The write-ahead log: the database's sole durability authority, offline queue and replication
/// stream. Records are appended into preallocated memory-mapped segment files and acknowledged per
/// <see cref="WalOptions.Durability"/>; LSNs are dense (+1 per record) starting at 1.
/// </summary>
/// <remarks>
/// <para>Thread safety: every member is thread-safe. Appends are serialized (one lock, a memcpy and a
/// CRC inside it); flushes run outside the append lock, so writers keep appending while a flush is
/// under way, and the next flush covers them all (group commit).</para>
/// <para>Faults: a failed flush is never retried into a success. The waits it covered fault with
/// <see cref="EdgeErrorCode.WalFaulted"/>, and so does every later append, until the log is disposed
/// and opened again, which recovers what is on disk.</para>
/// <para>One process at a time: the owner of the directory (the database) holds the lock file.</para>
/// </remarks>
public sealed partial class WriteAheadLog : IDisposable, IAsyncDisposable
{
    private readonly string _directory;
    private readonly IWalFileSystem _fileSystem;
    private readonly WalDurability _durability;
    private readonly long _segmentBytes;
    private readonly long _recordBytesMax;
    private readonly ulong _replicaId;
    private readonly int _pageSize;
    private readonly Lock _appendLock = new();
    private readonly List<WalSegment> _segments;   // guarded by _appendLock; oldest first, last is active
    private WalSegment _active;                    // guarded by _appendLock
    private long _lastLsn;
    private long _usedBytes;
    private volatile EdgeException? _fault;
    private volatile bool _disposed;

    private WriteAheadLog(string directory, WalOptions options, IWalFileSystem fileSystem, List<WalSegment> segments, ulong logEpoch, WalRecoveryResult recovery)
    {
        _directory = directory;
        _fileSystem = fileSystem;
        _durability = options.Durability;
        _cohortWait = options.GroupCohortWait;
        _segmentBytes = options.SegmentBytes;
        _recordBytesMax = options.SegmentBytes - WalSegmentHeader.HeaderBytes;
        _replicaId = options.ReplicaId;
        QuotaBytes = options.QuotaBytes;
        _pageSize = Environment.SystemPageSize;
        _segments = segments;
        _active = segments[^1];
        _lastLsn = _active.LastLsn;
        _durableLsn = _lastLsn;
        _firstLsn = segments[0].FirstLsn;
        _usedBytes = segments.Sum(s => s.LengthBytes);
        LogEpoch = logEpoch;
        Recovery = recovery;
        StartFlusher();
    }

    /// <summary>What opening found: segments, records scanned, torn tail cut, LSN range, time taken.</summary>
    public WalRecoveryResult Recovery { get; }

    /// <summary>The directory holding the segment files.</summary>
    public string Directory => _directory;

    /// <summary>The durability mode the log acknowledges in.</summary>
    public WalDurability Durability => _durability;

    /// <summary>The log epoch written in segment headers (1 for a new log; carried over by recovery).</summary>
    public ulong LogEpoch { get; private set; }

    /// <summary>The largest payload, in bytes, one record can carry (it must fit in one segment).</summary>
    public long PayloadBytesMax => _recordBytesMax - WalRecordFormat.HeaderBytes;

    /// <summary>Oldest LSN still on disk (1 until something is trimmed).</summary>
    public long FirstLsn => Volatile.Read(ref _firstLsn);

    /// <summary>Last appended LSN (0 when the log is empty). Appended is not yet durable: see <see cref="DurableLsn"/>.</summary>
    public long LastLsn => Volatile.Read(ref _lastLsn);

    /// <summary>Disk bytes taken by the segment files (each is preallocated to its full size).</summary>
    public long UsedBytes => Volatile.Read(ref _usedBytes);

    /// <summary>The most disk the segments may take (<see cref="WalOptions.QuotaBytes"/>).</summary>
    public long QuotaBytes { get; }

    /// <summary>Number of segment files.</summary>
    public int SegmentCount
    {
        get
        {
            lock (_appendLock)
            {
                return _segments.Count;
            }
        }
    }

    /// <summary>True after a flush failed: appends are refused until the log is reopened.</summary>
    public bool IsFaulted => _fault is not null;

    /// <summary>
    /// Appends one record and returns its LSN. The payload is copied into the mapped segment before
    /// this returns, so the record survives a crash of this process, but not a power loss until
    /// <see cref="WaitForDurableAsync"/> completes for it. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is <see cref="WalRecordKind.None"/>.</exception>
    /// <exception cref="EdgeException">
    /// <see cref="EdgeErrorCode.WalRecordTooLarge"/> (payload over <see cref="PayloadBytesMax"/>),
    /// <see cref="EdgeErrorCode.WalQuotaExceeded"/> (a new segment would pass the quota),
    /// <see cref="EdgeErrorCode.DiskFull"/> (no space to preallocate a new segment),
    /// <see cref="EdgeErrorCode.WalFaulted"/> (a flush failed earlier), or
    /// <see cref="EdgeErrorCode.WalIoError"/>.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    public long Append(WalRecordKind kind, ReadOnlySpan<byte> payload)
    {
        if (kind == WalRecordKind.None)
        {
            ThrowKindNone();
        }

        long encodedLength = WalRecordFormat.EncodedLength(payload.Length);
        if (encodedLength > _recordBytesMax)
        {
            ThrowTooLarge(payload.Length);
        }

        lock (_appendLock)
        {
            if (_fault is { } fault)
            {
                ThrowFaulted(fault);
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            WalSegment segment = _active;
            if (segment.RemainingBytes < encodedLength)
            {
                segment = AddSegment();
            }

            long lsn = _lastLsn + 1;
            segment.Append(lsn, kind, payload, encodedLength);
            Volatile.Write(ref _lastLsn, lsn);
            WakeIdleFlusher();
            return lsn;
        }
    }

    /// <summary>Like <see cref="Append"/>, but returns false instead of throwing when the quota or the disk is full.</summary>
    /// <exception cref="EdgeException">Any error of <see cref="Append"/> other than quota and disk full.</exception>
    public bool TryAppend(WalRecordKind kind, ReadOnlySpan<byte> payload, out long lsn)
    {
        try
        {
            lsn = Append(kind, payload);
            return true;
        }
        catch (EdgeException ex) when (ex.Code is EdgeErrorCode.WalQuotaExceeded or EdgeErrorCode.DiskFull)
        {
            lsn = 0;
            return false;
        }
    }

    /// <summary>Starts a new active segment. Caller holds the append lock.</summary>
    private WalSegment AddSegment()
    {
        if (_usedBytes + _segmentBytes > QuotaBytes)
        {
            throw new EdgeException(EdgeErrorCode.WalQuotaExceeded,
                $"WAL quota exceeded: a new {_segmentBytes}-byte segment would take the log in '{_directory}' to {_usedBytes + _segmentBytes} bytes, over its quota of {QuotaBytes} bytes " +
                $"({_segments.Count} segments, LSNs {_firstLsn}..{_lastLsn}, checkpoint LSN {_checkpointLsn}{DescribeHolds()}); checkpoint and release retention holds to free space");
        }

        var header = new WalSegmentHeader(_replicaId, LogEpoch, _lastLsn + 1, _segmentBytes);
        WalSegment created = WalSegment.Create(_fileSystem, _directory, header);
        _active.Seal();
        _segments.Add(created);
        _active = created;
        Volatile.Write(ref _usedBytes, _usedBytes + created.LengthBytes);
        return created;
    }

    /// <summary>Flushes what was appended (unless the log faulted) and releases the segment mappings.</summary>
    /// <exception cref="EdgeException">The final flush failed (<see cref="EdgeErrorCode.WalFaulted"/>); resources are released all the same.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        StopFlusher();
        try
        {
            if (_fault is null && LastLsn > DurableLsn)
            {
                FlushCore();
            }
        }
        finally
        {
            lock (_appendLock)
            {
                _disposed = true;
                foreach (WalSegment segment in _segments)
                {
                    segment.Release();
                }

                _segments.Clear();
            }

            FailWaiters(new ObjectDisposedException(nameof(WriteAheadLog), "the WAL was disposed before the flush covering this record"));
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    [DoesNotReturn]
    private static void ThrowKindNone() =>
        throw new ArgumentOutOfRangeException("kind", WalRecordKind.None, "a WAL record needs a kind other than None");

    [DoesNotReturn]
    private void ThrowTooLarge(int payloadLength) =>
        throw new EdgeException(EdgeErrorCode.WalRecordTooLarge, $"WAL record payload of {payloadLength} bytes is larger than the {PayloadBytesMax} bytes a {_segmentBytes}-byte segment can hold");

    [DoesNotReturn]
    private static void ThrowFaulted(EdgeException fault) =>
        throw new EdgeException(EdgeErrorCode.WalFaulted, $"WAL is faulted and refuses writes until it is reopened and recovered: {fault.Message}", fault);
}
