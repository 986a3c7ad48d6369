using CortexEdge.Core.Clocks;
using CortexEdge.Core.Documents;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>
/// An embedded CortexEdge database in one directory: collections of documents (and the other state
/// modules), a write-ahead log that is the sole durability authority, and a SQLite projection that
/// a background checkpointer keeps up to date.
/// </summary>
/// <remarks>
/// <para>A write stamps an HLC timestamp and an origin sequence, appends ONE WAL record, applies it to
/// the in-memory overlay and completes once acknowledged in the database's durability mode. Reads
/// see every applied write (read-your-writes), checkpointed or not.</para>
/// <para>Thread-safe: any number of threads may read and write at once. A directory is opened by one
/// <see cref="EdgeDatabase"/> at a time, across processes (<see cref="DirectoryLock"/>). After a
/// failed flush the database refuses writes (<see cref="EdgeErrorCode.DatabaseFaulted"/>) until it
/// is disposed and reopened; reads keep working.</para>
/// <para>Layout: <c>LOCK</c>, <c>state.db</c> (SQLite, WAL journal mode), <c>wal/</c> (segments).</para>
/// </remarks>
public sealed partial class EdgeDatabase : IDisposable, IAsyncDisposable
{
    /// <summary>Name of the WAL folder inside the database directory.</summary>
    public const string WalDirectoryName = "wal";

    private readonly Lock _writeLock = new();
    private readonly DirectoryLock _directoryLock;
    private readonly StateStore _store;
    private readonly WriteAheadLog _wal;
    private readonly HybridClock _clock;
    private readonly Checkpointer _checkpointer;
    private readonly IStateModule[] _modules;
    private readonly IStateModule?[] _modulesByKind = new IStateModule?[256];
    private readonly DocumentStateModule _documents;
    private readonly VersionVector _versions; // guarded by _writeLock
    private readonly long _replayedRecordCount;
    private ulong _originSequence; // guarded by _writeLock
    private EdgeException? _fault; // written once (CompareExchange), read with Volatile.Read
    private int _disposed;

    private EdgeDatabase(string directory, EdgeDatabaseOptions options, DirectoryLock directoryLock)
    {
        Directory = directory;
        Options = options;
        _directoryLock = directoryLock;
        _documents = new DocumentStateModule(RentStateReader);
        _timeSeries = new TimeSeries.TimeSeriesStateModule(() => _wal!, RentStateReader, options.TimeSeries);
        _modules = [.. CreateBuiltInModules(), .. options.AdditionalModules.Select(factory => factory(this))];
        foreach (IStateModule module in _modules)
        {
            foreach (WalRecordKind kind in module.RecordKinds)
            {
                if (kind is WalRecordKind.None or WalRecordKind.Checkpoint || _modulesByKind[(byte)kind] is not null)
                {
                    throw new EdgeException(EdgeErrorCode.StateModuleConflict,
                        $"State module '{module.Name}' claims WAL record kind {kind}, which is reserved or owned by '{_modulesByKind[(byte)kind]?.Name ?? "the engine"}'.");
                }

                _modulesByKind[(byte)kind] = module;
            }
        }

        try
        {
            _store = StateStore.Open(directory, _modules);
            _documents.LocalReplicaId = _store.ReplicaId;
            _timeSeries.LocalReplicaId = _store.ReplicaId;
            _clock = new HybridClock(_store.ReplicaId, options.TimeProvider, options.MaxClockSkew);
            _clock.AdvanceTo(_store.ClockTime);
            _originSequence = _store.OriginSequence;
            _wal = WriteAheadLog.Open(Path.Combine(directory, WalDirectoryName), new WalOptions
            {
                Durability = options.Durability,
                SegmentBytes = options.WalSegmentBytes,
                QuotaBytes = options.WalQuotaBytes,
                ReplicaId = _store.ReplicaId,
                FileSystem = options.WalFileSystem,
            });
            long checkpointLsn = _store.CheckpointLsn;
            if (checkpointLsn > _wal.LastLsn && _wal.LogEpoch > 1)
            {
                // An operator salvaged the log (raising its epoch) and cut records the SQLite state already
                // holds: realign the LSNs with checkpoint markers (skipped by replay and checkpoint) so new
                // ops never reuse an LSN the state claims. Records after the checkpoint are what salvage lost.
                Span<byte> marker = stackalloc byte[sizeof(long)];
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(marker, checkpointLsn);
                while (_wal.LastLsn < checkpointLsn)
                {
                    _wal.Append(WalRecordKind.Checkpoint, marker);
                }

                _wal.FlushAsync().AsTask().GetAwaiter().GetResult();
            }

            if (checkpointLsn > _wal.LastLsn)
            {
                throw new EdgeCorruptionException(EdgeErrorCode.StateCorrupt, $"{_store.FilePath} checkpoint LSN {checkpointLsn}",
                    $"The SQLite state is checkpointed through LSN {checkpointLsn} but the WAL ends at LSN {_wal.LastLsn}; the log lost records the state claims");
            }

            if (_wal.FirstLsn > checkpointLsn + 1)
            {
                throw new EdgeCorruptionException(EdgeErrorCode.StateCorrupt, $"{_wal.Directory} first LSN {_wal.FirstLsn}",
                    $"The WAL starts at LSN {_wal.FirstLsn} but the SQLite state is checkpointed only through LSN {checkpointLsn}; records {checkpointLsn + 1}..{_wal.FirstLsn - 1} are missing");
            }

            _versions = _store.ReadVersions();
            var checkpointedVersions = _versions.Clone();
            using (StateReadConnection reader = _store.RentReader())
            {
                foreach (IStateModule module in _modules)
                {
                    module.Load(reader.Connection);
                }
            }

            _replayedRecordCount = Replay(checkpointLsn);
            ApplyPersistedRetentionHolds();
            LoadDroppedOpCounts();
            if (_store.Created)
            {
                _store.TruncateSqliteLog();
            }

            _checkpointer = new Checkpointer(_wal, _store, _modules, _modulesByKind, checkpointedVersions, options);
            _checkpointer.Start();
        }
        catch
        {
            CloseMetadata();
            _wal?.Dispose();
            _store?.Dispose();
            _vectors?.Dispose();
            throw;
        }
    }

    /// <summary>The database directory.</summary>
    public string Directory { get; }

    /// <summary>The options the database was opened with.</summary>
    public EdgeDatabaseOptions Options { get; }

    /// <summary>This database's replica id: a random 64-bit id chosen when the database was created.</summary>
    public ulong ReplicaId => _store.ReplicaId;

    /// <summary>The database's hybrid logical clock (stamps every local op).</summary>
    public HybridClock Clock => _clock;

    /// <summary>The write-ahead log (sync reads it from an LSN and sets retention holds on it).</summary>
    public WriteAheadLog Wal => _wal;

    /// <summary>true once a flush failed: writes are refused until the database is reopened.</summary>
    public bool IsFaulted => Volatile.Read(ref _fault) is not null;

    /// <summary>
    /// Opens the database in <paramref name="directory"/>, creating it when absent (unless
    /// <see cref="EdgeDatabaseOptions.CreateIfMissing"/> is false), and recovers it: the WAL's torn
    /// tail is cut and every record after the SQLite checkpoint is replayed into memory.
    /// </summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.DatabaseLocked"/> (another open holds the directory; the message names its pid),
    /// WAL errors (DiskFull, WalIoError), or <see cref="EdgeErrorCode.StateModuleConflict"/>.</exception>
    /// <exception cref="EdgeCorruptionException">The WAL is corrupt mid-log or disagrees with the SQLite state; names segment and offset.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory is absent and <see cref="EdgeDatabaseOptions.CreateIfMissing"/> is false.</exception>
    public static EdgeDatabase Open(string directory, EdgeDatabaseOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new EdgeDatabaseOptions();
        options.Validate();
        string fullPath = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(fullPath) || !File.Exists(Path.Combine(fullPath, StateStore.FileName)))
        {
            if (!options.CreateIfMissing)
            {
                throw new DirectoryNotFoundException($"No CortexEdge database in '{fullPath}' (and CreateIfMissing is false).");
            }

            System.IO.Directory.CreateDirectory(fullPath);
        }

        DirectoryLock directoryLock = DirectoryLock.Acquire(fullPath);
        try
        {
            return new EdgeDatabase(fullPath, options, directoryLock);
        }
        catch
        {
            directoryLock.Dispose();
            throw;
        }
    }

    /// <summary>Makes every write appended so far durable (whatever the durability mode).</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.DatabaseFaulted"/> when the flush failed.</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        try
        {
            await _wal.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (EdgeException exception) when (exception.Code is EdgeErrorCode.WalFaulted or EdgeErrorCode.WalIoError)
        {
            throw Fault(exception);
        }
    }

    /// <summary>Completes once every write applied before the call is checkpointed into SQLite (tests, tools, shutdown).</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.DatabaseFaulted"/> when checkpointing failed.</exception>
    public Task CheckpointAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _checkpointer.CheckpointAsync(cancellationToken);
    }

    /// <summary>A snapshot of the database's counters.</summary>
    public EdgeDatabaseStats GetStats()
    {
        ThrowIfDisposed();
        ulong originSequence;
        lock (_writeLock)
        {
            originSequence = _originSequence;
        }

        return new EdgeDatabaseStats
        {
            ReplicaId = ReplicaId,
            Durability = _wal.Durability,
            FirstLsn = _wal.FirstLsn,
            LastLsn = _wal.LastLsn,
            DurableLsn = _wal.DurableLsn,
            CheckpointLsn = _checkpointer.CheckpointLsn,
            CheckpointCount = _checkpointer.CheckpointCount,
            WalFlushCount = _wal.FlushCount,
            DroppedOps = GetDroppedOpCounts(),
            DroppedOwnSequenceThrough = DroppedOwnSequenceThrough,
            WalSegmentCount = _wal.SegmentCount,
            WalUsedBytes = _wal.UsedBytes,
            WalQuotaBytes = _wal.QuotaBytes,
            OriginSequence = originSequence,
            OverlayDocumentCount = _documents.OverlayDocumentCount,
            ClockSkewRejectionCount = _clock.SkewRejectionCount,
            Recovery = _wal.Recovery,
            ReplayedRecordCount = _replayedRecordCount,
            Conflicts = _documents.GetConflictStats(),
            Fault = (Volatile.Read(ref _fault) ?? (_checkpointer.Fault is { } fault ? new EdgeException(EdgeErrorCode.DatabaseFaulted, fault.Message) : null))?.Message,
        };
    }

    /// <summary>The version vector of every op applied here (own and remote): origin replica -> highest contiguous origin sequence.</summary>
    public VersionVector GetVersionVector()
    {
        lock (_writeLock)
        {
            return _versions.Clone();
        }
    }

    /// <summary>
    /// Checkpoints what was applied (unless faulted), flushes and closes the WAL, the SQLite store and
    /// the directory lock. Writes still waiting for their flush fail.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _checkpointer.Stop(finalCheckpoint: Volatile.Read(ref _fault) is null);
            _checkpointer.Dispose();
            _wal.Dispose();
            SaveVectorIndexFiles();
        }
        finally
        {
            CloseMetadata();
            _vectors?.Dispose();
            _store.Dispose();
            _directoryLock.Dispose();
        }
    }

    /// <summary>
    /// Closes like a killed process would: no final checkpoint (the WAL's mapped pages are already in
    /// the page cache, as they would be after a crash). Tests use it to exercise recovery replay.
    /// </summary>
    internal void CloseWithoutCheckpoint()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _checkpointer.Dispose();
            _wal.Dispose();
        }
        finally
        {
            CloseMetadata();
            _vectors?.Dispose();
            _store.Dispose();
            _directoryLock.Dispose();
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private IStateModule[] CreateBuiltInModules() => [_documents, _timeSeries, CreateVectorModule(), new WithheldOpModule()];

    private StateReadConnection RentStateReader() => _store.RentReader();

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private long Replay(long checkpointLsn)
    {
        long count = 0;
        using WalReader reader = _wal.OpenReader(checkpointLsn + 1);
        while (reader.TryRead(out WalRecord record))
        {
            count++;
            if (record.Kind == WalRecordKind.Checkpoint)
            {
                continue;
            }

            StateRecord stateRecord = ToStateRecord(record.Lsn, record.Kind, record.Payload);
            IStateModule module = ModuleFor(_modulesByKind, record.Kind, record.Lsn);
            OperationHeader header = stateRecord.Header;
            _clock.AdvanceTo(header.Timestamp.Time);
            _versions.AdvanceTo(header.OriginReplicaId, header.OriginSequence);
            if (header.OriginReplicaId == ReplicaId && header.OriginSequence > _originSequence)
            {
                _originSequence = header.OriginSequence;
            }

            module.Apply(stateRecord);
        }

        return count;
    }

    internal static StateRecord ToStateRecord(long lsn, WalRecordKind kind, ReadOnlySpan<byte> payload)
    {
        if (!OperationHeader.TryRead(payload, out OperationHeader header))
        {
            throw new EdgeCorruptionException(EdgeErrorCode.DocumentMalformed, $"WAL LSN {lsn}",
                $"Operation record of kind {kind} has no valid operation header ({payload.Length} bytes)");
        }

        return new StateRecord(lsn, kind, header, payload[OperationHeader.EncodedBytes..]);
    }

    internal static IStateModule ModuleFor(IStateModule?[] modulesByKind, WalRecordKind kind, long lsn) =>
        modulesByKind[(byte)kind] ?? throw new EdgeException(EdgeErrorCode.StateModuleConflict,
            $"WAL record LSN {lsn} has kind {kind}, which no state module of this build owns; refusing to skip it.");

    private EdgeException Fault(EdgeException cause)
    {
        var fault = new EdgeException(EdgeErrorCode.DatabaseFaulted,
            $"The database in '{Directory}' stopped taking writes after an I/O fault; writes not yet acknowledged were not made durable. Reopen it to recover. Cause: {cause.Message}",
            cause);
        Interlocked.CompareExchange(ref _fault, fault, null);
        return fault;
    }
}
