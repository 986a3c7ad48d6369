using System.Buffers;
using CortexEdge.Core;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;

namespace CortexEdge.Sync.Replication;

/// <summary>
/// The leader's <see cref="EdgeDatabase"/> as a replication source: ships durable records of its WAL,
/// holds WAL segments for replicas through <see cref="WriteAheadLog.SetRetentionHold"/> (hold names
/// <c>replica:{name}</c>), and makes snapshots in the background. One protocol thread at a time.
/// </summary>
public sealed class EdgeDatabaseReplicationSource : IReplicationSource, IDisposable
{
    private const string HoldPrefix = "replica:";
    private readonly EdgeDatabase _database;
    private readonly string _snapshotDirectory;
    private readonly HashSet<string> _holds = new(StringComparer.Ordinal);
    private readonly Lock _snapshotLock = new();
    private Task? _snapshotTask;             // guarded by _snapshotLock
    private FileSnapshot? _snapshot;         // guarded by _snapshotLock
    private FileSnapshot? _retired;          // guarded by _snapshotLock
    private Exception? _snapshotError;       // guarded by _snapshotLock
    private WalReader? _reader;
    private long _readerNextLsn;
    private long _cachedLsn = -1;
    private uint _cachedCrc;

    /// <summary>Creates the source over an open database.</summary>
    public EdgeDatabaseReplicationSource(EdgeDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
        _snapshotDirectory = Path.Combine(database.Directory, "replication-snapshots");
    }

    /// <summary>The last background snapshot failure (null when none).</summary>
    public Exception? SnapshotError
    {
        get
        {
            lock (_snapshotLock)
            {
                return _snapshotError;
            }
        }
    }

    /// <inheritdoc/>
    public ulong Epoch => _database.Wal.LogEpoch;

    /// <inheritdoc/>
    public long FirstLsn => _database.Wal.FirstLsn;

    /// <inheritdoc/>
    /// <remarks>Durable records only; under <see cref="WalDurabilityMode.None"/> (no flusher, acknowledged at the copy
    /// into the map) every appended record, matching what that mode itself promises: a power loss may then
    /// take records from the leader that a replica holds.</remarks>
    public long ShippableLsn => _database.Wal.Durability.Mode == WalDurabilityMode.None
        ? _database.Wal.LastLsn
        : Math.Min(_database.Wal.DurableLsn, _database.Wal.LastLsn);

    /// <inheritdoc/>
    public bool TryGetCrc(long lsn, out uint crc)
    {
        if (lsn == _cachedLsn)
        {
            crc = _cachedCrc;
            return true;
        }

        return _database.TryGetRecordCrc(lsn, out crc);
    }

    /// <inheritdoc/>
    public int ReadRecords(long fromLsn, int recordCountMax, int bytesMax, IBufferWriter<byte> destination)
    {
        long shippable = ShippableLsn;
        if (fromLsn > shippable || fromLsn < _database.Wal.FirstLsn)
        {
            return 0;
        }

        if (_reader is null || _readerNextLsn != fromLsn)
        {
            _reader?.Dispose();
            _reader = null;
            try
            {
                _reader = _database.Wal.OpenReader(fromLsn);
            }
            catch (EdgeException exception) when (exception.Code == EdgeErrorCode.WalPositionTrimmed)
            {
                return 0;
            }

            _readerNextLsn = fromLsn;
        }

        int count = 0;
        int bytes = 0;
        try
        {
            while (count < recordCountMax && _readerNextLsn <= shippable)
            {
                if (!_reader.TryRead(out WalRecord record))
                {
                    break;
                }

                destination.Write(record.Encoded);
                bytes += record.Encoded.Length;
                _cachedLsn = record.Lsn;
                _cachedCrc = record.Crc;
                _readerNextLsn = record.Lsn + 1;
                count++;
                if (bytes >= bytesMax)
                {
                    break;
                }
            }
        }
        catch (EdgeException exception) when (exception.Code == EdgeErrorCode.WalPositionTrimmed)
        {
            _reader.Dispose();
            _reader = null;
        }

        return count;
    }

    /// <inheritdoc/>
    public bool TryGetSnapshot(long minimumLsn, out IReplicationSnapshot? snapshot)
    {
        lock (_snapshotLock)
        {
            if (_snapshot is { } ready && ready.Lsn >= minimumLsn)
            {
                snapshot = ready;
                return true;
            }

            if (_snapshotTask is null || _snapshotTask.IsCompleted)
            {
                _snapshotTask = Task.Run(MakeSnapshotAsync);
            }

            snapshot = null;
            return false;
        }
    }

    private async Task MakeSnapshotAsync()
    {
        ulong id = (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        string path = Path.Combine(_snapshotDirectory, $"{id:x16}.db");
        try
        {
            DatabaseSnapshot made = await _database.CreateSnapshotAsync(path).ConfigureAwait(false);
            lock (_snapshotLock)
            {
                // Two are kept: replicas still reading the previous one finish it; older ones are
                // deleted (a reader of those gets a short read and the protocol moves to the newest).
                _retired?.Dispose();
                _retired = _snapshot;
                _snapshot = new FileSnapshot(id, made);
                _snapshotError = null;
            }
        }
        catch (Exception exception) when (exception is EdgeException or IOException or Microsoft.Data.Sqlite.SqliteException)
        {
            lock (_snapshotLock)
            {
                _snapshotError = exception;
            }
        }
    }

    /// <inheritdoc/>
    public void SetRetentionHold(string replicaName, long keepFromLsn)
    {
        _database.Wal.SetRetentionHold(HoldPrefix + replicaName, keepFromLsn);
        _holds.Add(replicaName);
    }

    /// <inheritdoc/>
    public void ReleaseRetentionHold(string replicaName)
    {
        _database.Wal.ReleaseRetentionHold(HoldPrefix + replicaName);
        _holds.Remove(replicaName);
    }

    /// <summary>Releases the reader, every hold and the snapshot file.</summary>
    public void Dispose()
    {
        _reader?.Dispose();
        _reader = null;
        foreach (string name in _holds)
        {
            _database.Wal.ReleaseRetentionHold(HoldPrefix + name);
        }

        _holds.Clear();
        Task? pending;
        lock (_snapshotLock)
        {
            pending = _snapshotTask;
        }

        pending?.Wait(TimeSpan.FromSeconds(30));
        lock (_snapshotLock)
        {
            _snapshot?.Dispose();
            _snapshot = null;
            _retired?.Dispose();
            _retired = null;
        }
    }

    private sealed class FileSnapshot(ulong id, DatabaseSnapshot inner) : IReplicationSnapshot, IDisposable
    {
        private readonly Lock _readLock = new();
        private bool _disposed;

        public DatabaseSnapshot Inner { get; } = inner;

        public ulong Id { get; } = id;

        public long Lsn => Inner.Lsn;

        public uint AnchorCrc => Inner.AnchorCrc;

        public long LengthBytes => Inner.LengthBytes;

        public uint Checksum => Inner.Checksum;

        public int Read(long offset, Span<byte> destination)
        {
            lock (_readLock)
            {
                return _disposed ? 0 : Inner.Read(offset, destination);
            }
        }

        public void Dispose()
        {
            lock (_readLock)
            {
                _disposed = true;
                Inner.Dispose();
            }
        }
    }
}
