using System.Globalization;
using CortexEdge.Core;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// The leader side of sync over a real <see cref="EdgeDatabase"/>: uploaded ops are applied with
/// <see cref="EdgeDatabase.ApplyRemoteAsync"/> (which appends them to the leader's WAL — the global
/// commit order), downloads are served from that WAL by LSN, and node bindings live in the
/// database's local-only metadata.
/// </summary>
/// <remarks>
/// <para>Log retention: a persistent WAL retention hold (<see cref="ServeHoldName"/>) keeps the log
/// nodes download from. With <see cref="LogRetentionRecords"/> = 0 (the default) it stays at LSN 1
/// and the whole log is kept; otherwise it trails the head by that many records, checkpoints trim
/// the segments behind it, and a node whose cursor falls behind the log's first LSN (or a new node,
/// with <see cref="SyncSessionOptions.SnapshotNewNodes"/>) is bootstrapped from a snapshot.</para>
/// <para>Snapshots (<see cref="ExportSnapshot"/>) are the database's whole replicated state as
/// idempotent ops (<see cref="EdgeDatabase.ExportReplicatedState"/>, encoded by
/// <see cref="DatabaseSnapshotCodec"/>); <see cref="EdgeDatabaseSyncStore.ImportSnapshot"/> applies them.
/// Tombstone purge (<see cref="PurgeTombstones"/>) deletes document tombstones at or below the LSN
/// the session computed and persists <see cref="PurgedLsn"/>.</para>
/// <para>The session should be the database's only writer: the LSN an applied op received is
/// read as the WAL's last LSN right after the append.</para>
/// <para>Not thread-safe: one session at a time.</para>
/// </remarks>
public sealed class EdgeDatabaseLeaderStore : ISyncLeaderStore
{
    /// <summary>Name of the WAL retention hold that keeps the leader's whole log.</summary>
    public const string ServeHoldName = "sync-serve";

    private const string NodeKeyPrefix = "sync.node.";
    private const string PurgedLsnKey = "sync.purged_lsn";

    private readonly EdgeDatabase _db;
    private readonly Dictionary<string, ulong> _bindings = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, OriginState> _origins = [];
    private long _purgedLsn;
    private long _serveHoldLsn;

    /// <summary>Opens the leader's sync state on <paramref name="database"/> (which stays owned by the caller).</summary>
    public EdgeDatabaseLeaderStore(EdgeDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _db = database;
        _serveHoldLsn = ReadLong(database, EdgeDatabase.RetentionHoldPrefix + ServeHoldName);
        if (_serveHoldLsn == 0)
        {
            _serveHoldLsn = 1;
            database.SetPersistentRetentionHold(ServeHoldName, _serveHoldLsn);
        }

        _purgedLsn = ReadLong(database, PurgedLsnKey);

        foreach (KeyValuePair<string, string> entry in database.GetMetadataByPrefix(NodeKeyPrefix))
        {
            if (!ulong.TryParse(entry.Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong replica))
            {
                throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"node binding '{entry.Key}' in {database.Directory} has the invalid replica id '{entry.Value}'");
            }

            _bindings[entry.Key[NodeKeyPrefix.Length..]] = replica;
        }
    }

    /// <inheritdoc />
    public ulong ReplicaId => _db.ReplicaId;

    /// <inheritdoc />
    public long HeadLsn => _db.Wal.LastLsn;

    /// <inheritdoc />
    public long DurableLsn => Math.Min(_db.Wal.DurableLsn, _db.Wal.LastLsn);

    /// <inheritdoc />
    public long FirstLsn => _db.Wal.FirstLsn;

    /// <inheritdoc />
    public long PurgedLsn => _purgedLsn;

    /// <summary>
    /// Log records kept behind the head for nodes to download (0: the whole log). A node further
    /// behind is re-bootstrapped from a snapshot. Takes effect as ops are applied.
    /// </summary>
    public long LogRetentionRecords { get; init; }

    /// <summary>Document tombstones purged since this store was opened.</summary>
    public long TombstonesPurged { get; private set; }

    /// <inheritdoc />
    public IReadOnlyCollection<string> BoundNodes => _bindings.Keys;

    /// <inheritdoc />
    public long GetAppliedSeq(ulong origin) => Origin(origin).Applied;

    /// <inheritdoc />
    public long GetDurableSeq(ulong origin)
    {
        OriginState state = Origin(origin);
        long durable = _db.Wal.DurableLsn;
        while (state.Pending.Count > 0 && state.Pending.Peek().Lsn <= durable)
        {
            state.Durable = state.Pending.Dequeue().Seq;
        }

        return state.Durable;
    }

    /// <summary>
    /// The replication manifest (leader side): an uploaded op of a collection nodes may not write
    /// (direction down or local-only) is refused with <see cref="SyncProtocolErrorCode.CollectionNotWritable"/>
    /// before anything of it is applied, and ops served to nodes leave collections that do not
    /// travel down as withheld placeholders and without local-only fields. Null: no checks, no
    /// filtering. <see cref="ManifestFilter.Update"/> takes effect on the next op.
    /// </summary>
    public ManifestFilter? Manifest { get; set; }

    /// <inheritdoc />
    public long Apply(in SyncOp op)
    {
        (WalRecordKind kind, OperationHeader header, ReadOnlyMemory<byte> body) = DatabaseOpPayload.Split(op);
        if (Manifest is { } manifest && DatabaseOpManifest.TryGetCollection(op, out string collection) && !manifest.MayNodeWrite(collection))
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.CollectionNotWritable,
                $"op {op.Origin:X16}#{op.Seq} writes collection '{collection}', which nodes may not write (direction {manifest.Manifest.GetRule(collection).Direction}); nothing of it was applied");
        }

        ValueTask<RemoteApplyStatus> apply;
        try
        {
            // The body is copied by the database before this returns.
            apply = _db.ApplyRemoteAsync(kind, header, body);
        }
        catch (EdgeException ex) when (ex.Code is not (EdgeErrorCode.DatabaseFaulted or EdgeErrorCode.WalFaulted or EdgeErrorCode.WalIoError or EdgeErrorCode.DiskFull or EdgeErrorCode.WalQuotaExceeded))
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.OpRejected, $"op {op.Origin:X16}#{op.Seq} rejected: {ex.Message}", ex);
        }
        catch (EdgeException ex)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"the leader database cannot take op {op.Origin:X16}#{op.Seq}: {ex.Message}", ex);
        }

        long lsn = _db.Wal.LastLsn;
        if (apply.IsCompleted)
        {
            RemoteApplyStatus status = apply.GetAwaiter().GetResult();
            if (status != RemoteApplyStatus.Applied)
            {
                // The session only applies seq == applied + 1, so this means the database moved underneath it.
                throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure,
                    $"op {op.Origin:X16}#{op.Seq} was a {status} for the leader database (which holds that origin through seq {_db.GetVersionVector()[op.Origin]})");
            }
        }
        else
        {
            // Durability is tracked through DurableLsn; a failed flush faults the database and is surfaced by the next write.
            _ = apply.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        OriginState state = Origin(op.Origin);
        state.Applied = op.Seq;
        state.Pending.Enqueue((op.Seq, lsn));
        TrailServeHold(lsn);
        return lsn;
    }

    /// <inheritdoc />
    public long ReadLog(long afterLsn, long maxLsn, int maxCount, int maxPayloadBytes, List<SyncOp> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        TrailServeHold(_db.Wal.LastLsn); // the leader's own local writes advance the log too
        maxLsn = Math.Min(maxLsn, _db.Wal.LastLsn);
        if (afterLsn >= maxLsn || maxCount <= 0)
        {
            return afterLsn;
        }

        long scanned = afterLsn;
        int count = 0;
        long bytes = 0;
        try
        {
            using WalReader reader = _db.Wal.OpenReader(afterLsn + 1);
            while (count < maxCount && reader.TryRead(out WalRecord record))
            {
                if (record.Lsn > maxLsn)
                {
                    break;
                }

                if (DatabaseOpPayload.IsOp(record.Kind))
                {
                    int size = 1 + record.Payload.Length - OperationHeader.EncodedBytes;
                    if (count > 0 && bytes + size > maxPayloadBytes)
                    {
                        break;
                    }

                    if (DatabaseOpPayload.TryCreate(record.Lsn, record.Kind, record.Payload, out SyncOp op))
                    {
                        DatabaseOpManifest.TryPrepare(op, Manifest, out op); // the leader understands every schema: never held back
                        destination.Add(op);
                        bytes += size;
                        count++;
                    }
                }

                scanned = record.Lsn;
            }
        }
        catch (EdgeException ex)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"reading the leader log after LSN {afterLsn} failed: {ex.Message}", ex);
        }

        return scanned;
    }

    /// <inheritdoc />
    public SyncSnapshot ExportSnapshot()
    {
        var versions = new VersionVector();
        using var records = new FrameBodyWriter(64 * 1024);
        long count = 0;
        long lsn;
        try
        {
            lsn = _db.ExportReplicatedState(versions, (kind, timestamp, body) =>
            {
                DatabaseSnapshotCodec.WriteRecord(records, kind, timestamp, body);
                count++;
            });
        }
        catch (EdgeException ex)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"exporting a snapshot of {_db.Directory} failed: {ex.Message}", ex);
        }

        return new SyncSnapshot(lsn, DatabaseSnapshotCodec.Encode(_db.ReplicaId, _db.Clock.Now().Time, versions, count, records.Written));
    }

    /// <inheritdoc />
    public bool TryBindNode(string nodeName, ulong replicaId, out ulong boundReplicaId)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeName);
        if (_bindings.TryGetValue(nodeName, out boundReplicaId))
        {
            return boundReplicaId == replicaId;
        }

        _db.SetMetadata(NodeKeyPrefix + nodeName, replicaId.ToString("X16", CultureInfo.InvariantCulture));
        _bindings[nodeName] = replicaId;
        boundReplicaId = replicaId;
        return true;
    }

    /// <inheritdoc />
    public void PurgeTombstones(long upToLsn)
    {
        if (upToLsn <= _purgedLsn)
        {
            return;
        }

        try
        {
            TombstonesPurged += _db.PurgeDocumentTombstones(upToLsn);
            // Persisted after the rows are gone: a crash in between purges again, never claims a purge that did not happen.
            _db.SetMetadata(PurgedLsnKey, upToLsn.ToString(CultureInfo.InvariantCulture));
        }
        catch (EdgeException ex)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"purging tombstones of {_db.Directory} through LSN {upToLsn} failed: {ex.Message}", ex);
        }

        _purgedLsn = upToLsn;
    }

    private void TrailServeHold(long headLsn)
    {
        long retention = LogRetentionRecords;
        // Moved in steps of a quarter of the bound, so the persisted hold is written rarely.
        if (retention > 0 && headLsn - retention - _serveHoldLsn >= Math.Max(1, retention / 4))
        {
            _serveHoldLsn = headLsn - retention;
            _db.SetPersistentRetentionHold(ServeHoldName, _serveHoldLsn);
        }
    }

    private static long ReadLong(EdgeDatabase database, string key) =>
        database.GetMetadata(key) is { } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : 0;

    private OriginState Origin(ulong origin)
    {
        if (!_origins.TryGetValue(origin, out OriginState? state))
        {
            // Everything applied before this store existed was replayed from (or appended to) the WAL; it is durable
            // once the WAL is durable through its current end, which the next GetDurableSeq observes.
            long applied = checked((long)_db.GetVersionVector()[origin]);
            state = new OriginState { Applied = applied };
            state.Pending.Enqueue((applied, _db.Wal.LastLsn));
            _origins[origin] = state;
        }

        return state;
    }

    private sealed class OriginState
    {
        public long Applied { get; set; }

        public long Durable { get; set; }

        public Queue<(long Seq, long Lsn)> Pending { get; } = new();
    }
}
