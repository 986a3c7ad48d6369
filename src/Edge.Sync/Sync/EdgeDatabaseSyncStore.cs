using System.Globalization;
using CortexEdge.Core;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Fleet;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// The node side of sync over a real <see cref="EdgeDatabase"/>: own ops are read back from the
/// database's WAL (records whose origin is this replica), remote ops are applied with
/// <see cref="EdgeDatabase.ApplyRemoteAsync"/>, and the cursors and the node-name binding live in
/// the database's local-only metadata (they never consume an origin sequence).
/// </summary>
/// <remarks>
/// <para>Upload: the metadata keeps the highest acknowledged own sequence and a persistent WAL
/// retention hold (<see cref="UploadHoldName"/>) at the first own op not yet acknowledged, so
/// checkpoints never trim an op before the leader has it; acknowledgements move the hold. The
/// hold exists from the first time a store is created on the database: ops written offline before
/// that survive only while their WAL segment is not trimmed (a database that will sync should get
/// its store before it outgrows one WAL segment); a trimmed backlog is reported as
/// <see cref="SyncProtocolErrorCode.StoreFailure"/> at construction rather than uploaded with a gap.</para>
/// <para>Dropped ops: own ops the database dropped from the upload queue at its WAL quota
/// (<see cref="EdgeDatabaseOptions.DroppableCollections"/>, through
/// <see cref="EdgeDatabase.DroppedOwnSequenceThrough"/>) leave as withheld placeholders (their
/// origin and sequence, no content; the same <see cref="WalRecordKind.WithheldOp"/> the manifest
/// uses), so the leader's sequence of this origin stays dense and the ops after them still
/// upload. Their timestamps left with the WAL: a placeholder changes no state, so it carries the
/// last dropped op's HLC when the store saw it, else the first kept op's, else the clock's.</para>
/// <para>Download: ops of other origins are applied and the WAL is flushed before the download
/// cursor is persisted, so the cursor never runs ahead of the ops (a crash in between re-downloads
/// ops that are then skipped as duplicates).</para>
/// <para>Snapshots: chunks are appended to a staging file in the database directory
/// (<c>sync-snapshot.part</c>) and flushed one by one; the transfer (id, LSN, total, chunk size) is
/// kept in metadata, and the file's whole chunks are what was received, so an interrupted transfer
/// resumes from the next chunk (a chunk a crash cut short is dropped). Import applies the
/// leader's state as idempotent ops (<see cref="EdgeDatabase.ApplyStateRecord"/>), hides documents
/// the snapshot lacks (deleted and purged upstream) unless an own op not in the snapshot touches
/// them, raises the version vector to the snapshot's, and then moves the download cursor; a crash
/// mid-import re-runs it from the staging file when the store is next opened.</para>
/// <para>Not thread-safe: one session at a time. The database may be written concurrently.</para>
/// </remarks>
public sealed class EdgeDatabaseSyncStore : ISyncNodeStore
{
    /// <summary>Name of the WAL retention hold that keeps unacknowledged own ops.</summary>
    public const string UploadHoldName = EdgeDatabase.SyncUploadHoldName;

    private const string NodeNameKey = "sync.node_name";
    private const string UploadSeqKey = "sync.upload_seq";
    private const string DownloadLsnKey = "sync.download_lsn";
    private const string SnapshotKey = "sync.snapshot";
    private const string SnapshotFileName = "sync-snapshot.part";
    private const int DocumentBatch = 8192;

    private readonly EdgeDatabase _db;
    private readonly Func<string, bool>? _isPriority;
    private readonly Dictionary<string, bool> _priorityByName = new(StringComparer.Ordinal);
    private readonly OperationTargetMatch _matchPriority;
    private readonly List<OwnOp> _own = []; // own ops after the upload cursor, in sequence (= LSN) order
    private readonly List<Task> _pendingApplies = [];
    private long _scannedThroughLsn;
    private long _droppedThrough; // own sequences in (_uploadCursor, _droppedThrough] leave as withheld placeholders
    private ulong _droppedHlc; // 0: unknown, see DroppedHlc
    private long _uploadCursor;
    private long _downloadCursor;
    private string? _nodeName;
    private SnapshotTransfer? _pending;
    private long _pendingBytes;
    private int _chunkBytes; // size of every chunk but the last, learnt from chunk 0
    private bool _pendingImporting;

    /// <summary>Opens the sync state of <paramref name="database"/> (which stays owned by the caller).</summary>
    /// <param name="database">The node's database.</param>
    /// <param name="isPriority">
    /// Which collections (documents, vectors) and series (time series) are priority: an own op
    /// writing any of them is counted in <see cref="SyncBacklog.Priority"/> and carries
    /// <see cref="SyncOpFlags.Priority"/>, so <see cref="SyncScope.PriorityOnly"/> sends it. Asked
    /// once per name. <c>null</c>: nothing is priority.
    /// </param>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.StoreFailure"/>: own ops that were never acknowledged are no longer in the WAL.</exception>
    public EdgeDatabaseSyncStore(EdgeDatabase database, Func<string, bool>? isPriority = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        _db = database;
        _isPriority = isPriority;
        _matchPriority = IsPriorityName;
        _nodeName = database.GetMetadata(NodeNameKey);
        _uploadCursor = ReadLong(UploadSeqKey);
        _downloadCursor = ReadLong(DownloadLsnKey);
        LoadPendingSnapshot();
        long holdLsn = ReadLong(EdgeDatabase.RetentionHoldPrefix + UploadHoldName);
        if (holdLsn == 0)
        {
            holdLsn = Math.Max(1, database.Wal.FirstLsn);
            database.SetPersistentRetentionHold(UploadHoldName, holdLsn);
        }

        _scannedThroughLsn = Math.Max(holdLsn, database.Wal.FirstLsn) - 1;
        Refresh();
        long lastOwn = checked((long)database.GetVersionVector()[database.ReplicaId]);
        long expectedFirst = Math.Max(_uploadCursor, _droppedThrough) + 1;
        if (lastOwn > _uploadCursor && (_own.Count == 0 || _own[0].Seq != expectedFirst))
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure,
                $"own ops {expectedFirst}..{lastOwn} of database {database.Directory} were never acknowledged by the leader but the WAL no longer holds op {expectedFirst} " +
                $"(WAL starts at LSN {database.Wal.FirstLsn}); they cannot be uploaded");
        }

        if (_pendingImporting && _pending is not null)
        {
            // A crash interrupted an import: it is idempotent, so run it again from the staged snapshot.
            ImportSnapshot(ReadPendingSnapshot(), _pending.SnapshotLsn);
        }
    }

    /// <inheritdoc />
    public ulong ReplicaId => _db.ReplicaId;

    /// <summary>
    /// The replication manifest (node side) applied to own ops as they are read for upload: ops of
    /// collections that do not travel up leave as withheld placeholders (their sequence, no
    /// content), local-only fields are stripped, and a collection held back for its schema version
    /// stops the upload there. Null: every op leaves as written. <see cref="ManifestFilter.Update"/>
    /// takes effect on the next read, so a collection switched to local-only stops leaving at once.
    /// </summary>
    public ManifestFilter? Manifest { get; set; }

    /// <inheritdoc />
    public string? BoundNodeName => _nodeName;

    /// <inheritdoc />
    public long LastOwnSeq
    {
        get
        {
            Refresh();
            return LastKnownSeq;
        }
    }

    /// <inheritdoc />
    public long DurableOwnSeq
    {
        get
        {
            Refresh();
            long durable = _db.Wal.DurableLsn;
            for (int i = _own.Count - 1; i >= 0; i--)
            {
                if (_own[i].Lsn <= durable)
                {
                    return _own[i].Seq;
                }
            }

            return Math.Max(_uploadCursor, _droppedThrough); // placeholders need nothing durable
        }
    }

    /// <inheritdoc />
    public long UploadCursor => _uploadCursor;

    /// <inheritdoc />
    public long DownloadCursor => _downloadCursor;

    /// <inheritdoc />
    public SnapshotTransfer? PendingSnapshot => _pending;

    /// <summary>Documents hidden by snapshot imports since this store was opened (deleted and purged at the leader).</summary>
    public long DocumentsHiddenBySnapshots { get; private set; }

    /// <inheritdoc />
    public void BindNodeName(string nodeName)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeName);
        if (_nodeName is not null)
        {
            if (_nodeName != nodeName)
            {
                throw new SyncProtocolException(SyncProtocolErrorCode.NodeIdentityMismatch,
                    $"database {_db.Directory} is bound to node name '{_nodeName}'; it cannot sync as '{nodeName}'");
            }

            return;
        }

        _db.SetMetadata(NodeNameKey, nodeName);
        _nodeName = nodeName;
    }

    /// <inheritdoc />
    public int ReadOwnOps(long afterSeq, long maxSeq, int maxCount, int maxPayloadBytes, List<SyncOp> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        for (int attempt = 0; ; attempt++)
        {
            Refresh();
            if (maxCount <= 0)
            {
                return 0;
            }

            int count = 0;
            long bytes = 0;
            long placeholderFirst = Math.Max(afterSeq, _uploadCursor) + 1;
            ulong hlc = placeholderFirst <= _droppedThrough ? DroppedHlc : 0;
            for (long seq = placeholderFirst; seq <= Math.Min(maxSeq, _droppedThrough) && count < maxCount; seq++)
            {
                SyncOp placeholder = DatabaseOpManifest.Withheld(new SyncOp(ReplicaId, seq, hlc, SyncOpFlags.None, ReadOnlyMemory<byte>.Empty));
                if (count > 0 && bytes + placeholder.Payload.Length > maxPayloadBytes)
                {
                    return count;
                }

                destination.Add(placeholder);
                bytes += placeholder.Payload.Length;
                count++;
            }

            try
            {
                ReadOwnOpsFromWal(afterSeq, maxSeq, maxCount, maxPayloadBytes, destination, ref count, ref bytes);
                return count;
            }
            catch (EdgeException ex) when (ex.Code == EdgeErrorCode.WalPositionTrimmed && attempt < 2)
            {
                // Dropped at the quota while being read (a concurrent write over the quota): what was
                // added is in order; with nothing added, the next attempt sends them as placeholders.
                if (count > 0)
                {
                    return count;
                }
            }
        }
    }

    // Appends the own ops the WAL holds (those after the dropped ones), counting on from `count` ops of `bytes` payload bytes.
    private void ReadOwnOpsFromWal(long afterSeq, long maxSeq, int maxCount, int maxPayloadBytes, List<SyncOp> destination, ref int count, ref long bytes)
    {
        if (_own.Count == 0 || count >= maxCount)
        {
            return;
        }

        long first = Math.Max(afterSeq + 1, _own[0].Seq);
        long last = Math.Min(maxSeq, _own[^1].Seq);
        if (first > last)
        {
            return;
        }

        long expected = first;
        using WalReader reader = _db.Wal.OpenReader(_own[(int)(first - _own[0].Seq)].Lsn);
        while (count < maxCount && reader.TryRead(out WalRecord record))
        {
            if (!DatabaseOpPayload.IsOp(record.Kind) || !OperationHeader.TryRead(record.Payload, out OperationHeader header) || header.OriginReplicaId != ReplicaId)
            {
                continue;
            }

            long seq = checked((long)header.OriginSequence);
            if (seq != expected && seq <= last)
            {
                continue; // not the next own op: a snapshot record carrying our origin as its HLC replica
            }

            if (seq > last)
            {
                break;
            }

            DatabaseOpPayload.TryCreate(0, record.Kind, record.Payload, out SyncOp op);
            if (!DatabaseOpManifest.TryPrepare(op, Manifest, out SyncOp wire))
            {
                break; // held back for its schema version: nothing from here on leaves yet
            }

            int size = wire.Payload.Length;
            if (count > 0 && bytes + size > maxPayloadBytes)
            {
                break;
            }

            bool priority = _own[(int)(seq - _own[0].Seq)].Priority;
            destination.Add(priority ? wire with { Flags = wire.Flags | SyncOpFlags.Priority } : wire);
            bytes += size;
            count++;
            expected++;
        }
    }

    /// <inheritdoc />
    public SyncBacklog GetBacklog(long afterSeq, DateTimeOffset now)
    {
        Refresh();
        (long Ops, long Bytes, ulong OldestHlc, long Highest) priority = default, normal = default;
        long droppedFirst = Math.Max(afterSeq, _uploadCursor) + 1;
        if (_droppedThrough >= droppedFirst)
        {
            long placeholders = _droppedThrough - droppedFirst + 1;
            normal = (placeholders, placeholders, DroppedHlc, _droppedThrough); // one payload byte each
        }

        foreach (OwnOp op in _own)
        {
            if (op.Seq <= afterSeq)
            {
                continue;
            }

            ref var bucket = ref op.Priority ? ref priority : ref normal;
            if (bucket.Ops == 0)
            {
                bucket.OldestHlc = op.Hlc;
            }

            bucket.Ops++;
            bucket.Bytes += op.Bytes;
            bucket.Highest = op.Seq;
        }

        long nowMs = now.ToUnixTimeMilliseconds();
        return new SyncBacklog(ToClass(priority), ToClass(normal));

        SyncBacklogClass ToClass((long Ops, long Bytes, ulong OldestHlc, long Highest) b) =>
            new(b.Ops, b.Bytes, b.Ops == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(0, nowMs - (long)(b.OldestHlc >> 16))), b.Highest);
    }

    /// <summary>
    /// Forgets which names are priority and classifies the unsent own ops again, reading their
    /// names from the WAL: call it when the rules behind <c>isPriority</c> change (a new manifest).
    /// </summary>
    public void ReclassifyPriorities()
    {
        _priorityByName.Clear();
        Refresh();
        if (_isPriority is null || _own.Count == 0)
        {
            return;
        }

        int index = 0;
        using WalReader reader = _db.Wal.OpenReader(_own[0].Lsn);
        while (index < _own.Count && reader.TryRead(out WalRecord record))
        {
            if (record.Lsn != _own[index].Lsn)
            {
                continue; // another origin's op, or a checkpoint
            }

            bool priority = OperationTargets.Any(record.Kind, record.Payload[OperationHeader.EncodedBytes..], _matchPriority);
            _own[index] = _own[index] with { Priority = priority };
            index++;
        }
    }

    /// <inheritdoc />
    public void SaveUploadCursor(long ackedSeq)
    {
        if (ackedSeq <= _uploadCursor)
        {
            return;
        }

        Refresh();
        int keep = 0;
        while (keep < _own.Count && _own[keep].Seq <= ackedSeq)
        {
            keep++;
        }

        // The hold moves to the first op still unacknowledged, or past everything scanned; never back
        // over a drop at the quota that moved it meanwhile.
        long holdLsn = keep < _own.Count ? _own[keep].Lsn : _scannedThroughLsn + 1;
        holdLsn = Math.Max(holdLsn, _db.Wal.GetRetentionHolds().GetValueOrDefault(UploadHoldName));
        _db.SetMetadata(
        [
            new KeyValuePair<string, string>(UploadSeqKey, ackedSeq.ToString(CultureInfo.InvariantCulture)),
            new KeyValuePair<string, string>(EdgeDatabase.RetentionHoldPrefix + UploadHoldName, holdLsn.ToString(CultureInfo.InvariantCulture)),
        ]);
        _db.Wal.SetRetentionHold(UploadHoldName, holdLsn);
        _own.RemoveRange(0, keep);
        _uploadCursor = ackedSeq;
    }

    /// <inheritdoc />
    public void GetVersionVector(List<KeyValuePair<ulong, long>> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        foreach (KeyValuePair<ulong, ulong> entry in _db.GetVersionVector().Entries)
        {
            destination.Add(new KeyValuePair<ulong, long>(entry.Key, checked((long)entry.Value)));
        }
    }

    /// <inheritdoc />
    public int ApplyDownloaded(IReadOnlyList<SyncOp> ops, long newCursor)
    {
        ArgumentNullException.ThrowIfNull(ops);
        int applied = 0;
        _pendingApplies.Clear();
        try
        {
            foreach (SyncOp op in ops)
            {
                if (op.Origin == ReplicaId)
                {
                    continue; // our own op coming back through the leader's log
                }

                (WalRecordKind kind, OperationHeader header, ReadOnlyMemory<byte> body) = DatabaseOpPayload.Split(op);
                ValueTask<RemoteApplyStatus> apply = _db.ApplyRemoteAsync(kind, header, body);
                if (!apply.IsCompleted)
                {
                    applied++;
                    _pendingApplies.Add(apply.AsTask());
                    continue;
                }

                switch (apply.GetAwaiter().GetResult())
                {
                    case RemoteApplyStatus.Applied:
                        applied++;
                        break;
                    case RemoteApplyStatus.Gap:
                        throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure,
                            $"op {op.Origin:X16}#{op.Seq} at leader LSN {op.Lsn} leaves a gap: this database holds that origin only through seq {_db.GetVersionVector()[op.Origin]}");
                }
            }

            // The cursor must never be durable ahead of the ops it covers.
            _db.FlushAsync().AsTask().GetAwaiter().GetResult();
            Task.WaitAll(_pendingApplies);
        }
        catch (EdgeException ex)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"applying downloaded ops to {_db.Directory} failed: {ex.Message}", ex);
        }
        catch (AggregateException ex) when (ex.InnerException is EdgeException inner)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"applying downloaded ops to {_db.Directory} failed: {inner.Message}", inner);
        }
        finally
        {
            _pendingApplies.Clear();
        }

        if (newCursor > _downloadCursor)
        {
            _db.SetMetadata(DownloadLsnKey, newCursor.ToString(CultureInfo.InvariantCulture));
            _downloadCursor = newCursor;
        }

        return applied;
    }

    /// <inheritdoc />
    public void BeginSnapshot(SnapshotTransfer transfer)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        File.Delete(SnapshotPath);
        _pending = transfer with { NextChunk = 0 };
        _pendingBytes = 0;
        _chunkBytes = 0;
        _pendingImporting = false;
        SavePendingSnapshot();
    }

    /// <inheritdoc />
    public void AppendSnapshotChunk(int index, ReadOnlySpan<byte> data)
    {
        if (_pending is null || index != _pending.NextChunk)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"snapshot chunk {index} does not follow the pending transfer (next {_pending?.NextChunk})");
        }

        if (index == 0)
        {
            _chunkBytes = data.Length;
            SavePendingSnapshot(); // the only metadata write of a transfer after its start
        }
        else if (index < _pending.Total - 1 && data.Length != _chunkBytes)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"snapshot chunk {index} has {data.Length} bytes; chunk 0 had {_chunkBytes}");
        }

        // The staging file is its own progress record (chunks before the last are all the same size),
        // so a chunk costs one append and one flush.
        using (var file = new FileStream(SnapshotPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None))
        {
            file.SetLength(_pendingBytes);
            file.Position = _pendingBytes;
            file.Write(data);
            file.Flush(flushToDisk: true);
        }

        _pendingBytes += data.Length;
        _pending = _pending with { NextChunk = index + 1 };
    }

    /// <inheritdoc />
    public byte[] ReadPendingSnapshot()
    {
        if (_pending is null || !File.Exists(SnapshotPath))
        {
            return [];
        }

        using var file = new FileStream(SnapshotPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        var data = new byte[Math.Min(file.Length, _pendingBytes)];
        file.ReadExactly(data);
        return data;
    }

    /// <inheritdoc />
    public void DiscardSnapshot()
    {
        File.Delete(SnapshotPath);
        _pending = null;
        _pendingBytes = 0;
        _chunkBytes = 0;
        _pendingImporting = false;
        _db.SetMetadata(SnapshotKey, string.Empty);
    }

    /// <inheritdoc />
    public void ImportSnapshot(ReadOnlyMemory<byte> snapshot, long snapshotLsn)
    {
        // The records are read in place (the caller's buffer is not copied: a snapshot can be most of a small board's memory).
        (ulong leader, ulong clock, VersionVector versions, long recordCount) = DatabaseSnapshotCodec.ReadHeader(snapshot.Span, out int offset);
        if (_pending is not null && !_pendingImporting)
        {
            // From here a crash re-runs the import from the staged file when the store is opened again.
            _pendingImporting = true;
            SavePendingSnapshot();
        }

        try
        {
            ApplySnapshot(snapshot, offset, leader, clock, versions, recordCount);
            _db.FlushAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (EdgeException ex)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.StoreFailure, $"importing the snapshot at leader LSN {snapshotLsn} into {_db.Directory} failed: {ex.Message}", ex);
        }

        File.Delete(SnapshotPath);
        _db.SetMetadata(
        [
            new KeyValuePair<string, string>(DownloadLsnKey, snapshotLsn.ToString(CultureInfo.InvariantCulture)),
            new KeyValuePair<string, string>(SnapshotKey, string.Empty),
        ]);
        _downloadCursor = snapshotLsn;
        _pending = null;
        _pendingBytes = 0;
        _pendingImporting = false;
    }

    private string SnapshotPath => Path.Combine(_db.Directory, SnapshotFileName);

    private void ApplySnapshot(ReadOnlyMemory<byte> memory, int offset, ulong leader, ulong clock, VersionVector versions, long recordCount)
    {
        ulong own = ReplicaId;
        // Every synthetic record needs a sequence the snapshot's vector already holds for its origin,
        // so applying it never claims an op this database lacks. Plain records use one carrier origin.
        // The leader, else the first other origin the vector holds, else (only our own ops reached
        // the leader) our own. Replica ids are never 0.
        ulong carrier = leader != own && versions[leader] > 0 ? leader : versions.Entries.FirstOrDefault(e => e.Key != own && e.Value > 0).Key;
        if (carrier == 0)
        {
            carrier = own;
        }

        OperationHeader HeaderFor(ulong origin, ulong time)
        {
            ulong seq = versions[origin];
            return seq > 0 ? new OperationHeader(seq, new HlcTimestamp(time, origin)) : new OperationHeader(Math.Max(1, versions[carrier]), new HlcTimestamp(time, carrier));
        }

        // Documents shown here that the snapshot lacks were deleted and purged upstream: hide them
        // (before the import, so only what this node held is looked at), unless one of our own ops
        // the snapshot does not hold touches them (that op is still to be uploaded). When the log no
        // longer holds every such op, hide nothing: keeping a purged document is safer than hiding
        // a write of ours the leader has.
        int recordsStart = offset;
        HashSet<(string, string)>? ownKeys = OwnDocumentKeysAfter(checked((long)versions[own]));
        if (ownKeys is not null)
        {
            HashSet<(string, string)>? snapshotKeys = null;
            DocumentsHiddenBySnapshots += _db.HideDocumentsNotIn((collection, key) =>
            {
                snapshotKeys ??= SnapshotDocumentKeys(memory, recordsStart, recordCount);
                return snapshotKeys.Contains((collection, key)) || ownKeys.Contains((collection, key));
            }, HeaderFor(carrier, clock));
        }

        // Documents go straight into the checkpointed state in batches (one transaction each); the
        // other kinds are logged and applied as ops.
        ReadOnlyMemory<byte>? firstDocument = null;
        var documents = new List<ReadOnlyMemory<byte>>(DocumentBatch);
        for (long i = 0; i < recordCount; i++)
        {
            (WalRecordKind kind, HlcTimestamp timestamp, ReadOnlyMemory<byte> body) = DatabaseSnapshotCodec.ReadRecord(memory, ref offset);
            if (kind == WalRecordKind.Document)
            {
                firstDocument ??= body;
                documents.Add(body);
                if (documents.Count == DocumentBatch)
                {
                    _db.MergeDocumentStates(documents);
                    documents.Clear();
                }

                continue;
            }

            OperationHeader header = timestamp == HlcTimestamp.Zero ? HeaderFor(carrier, clock) : HeaderFor(timestamp.ReplicaId, timestamp.Time);
            _db.ApplyStateRecord(kind, header, body.Span);
        }

        _db.MergeDocumentStates(documents);

        // Raise the version vector to the snapshot's: one idempotent record per origin carrying its sequence.
        foreach (KeyValuePair<ulong, ulong> entry in versions.Entries)
        {
            if (entry.Key == own || entry.Value == 0 || _db.GetVersionVector()[entry.Key] >= entry.Value)
            {
                continue;
            }

            var header = new OperationHeader(entry.Value, new HlcTimestamp(clock, entry.Key));
            if (firstDocument is { } document)
            {
                _db.ApplyStateRecord(WalRecordKind.Document, header, document.Span);
            }
            else
            {
                _db.ApplyStateRecord(WalRecordKind.Document, header, VersionCarrierBody);
            }
        }
    }

    private static HashSet<(string, string)> SnapshotDocumentKeys(ReadOnlyMemory<byte> data, int offset, long recordCount)
    {
        var keys = new HashSet<(string, string)>();
        for (long i = 0; i < recordCount; i++)
        {
            (WalRecordKind kind, _, ReadOnlyMemory<byte> body) = DatabaseSnapshotCodec.ReadRecord(data, ref offset);
            if (EdgeDatabase.TryGetDocumentKey(kind, body.Span, out string collection, out string key))
            {
                keys.Add((collection, key));
            }
        }

        return keys;
    }

    // Keys of documents our own ops after `seq` touch, read from the WAL (acknowledged ones too: the
    // snapshot may predate them). Null when the log no longer holds all of them.
    private HashSet<(string, string)>? OwnDocumentKeysAfter(long seq)
    {
        var keys = new HashSet<(string, string)>();
        long last = checked((long)_db.GetVersionVector()[ReplicaId]);
        if (last <= seq)
        {
            return keys;
        }

        long expected = seq + 1;
        using WalReader reader = _db.Wal.OpenReader(_db.Wal.FirstLsn);
        while (reader.TryRead(out WalRecord record))
        {
            if (!DatabaseOpPayload.IsOp(record.Kind) || !OperationHeader.TryRead(record.Payload, out OperationHeader header)
                || header.OriginReplicaId != ReplicaId || (long)header.OriginSequence != expected)
            {
                continue;
            }

            expected++;
            if (EdgeDatabase.TryGetDocumentKey(record.Kind, record.Payload[OperationHeader.EncodedBytes..], out string collection, out string key))
            {
                keys.Add((collection, key));
            }
        }

        return expected > last ? keys : null;
    }

    // An empty document state merged into a reserved, never-visible key: carries a version-vector
    // sequence when a snapshot holds no document to carry it.
    private static byte[] VersionCarrierBody { get; } = EdgeDatabase.EncodeEmptyStateMerge("_ce_sync", "versions");

    private void LoadPendingSnapshot()
    {
        string? text = _db.GetMetadata(SnapshotKey);
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        string[] parts = text.Split(':');
        if (parts.Length != 7
            || !ulong.TryParse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong id)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long lsn)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int total)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out long totalBytes)
            || !uint.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out uint checksum)
            || !int.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out int chunkBytes)
            || total < 1 || totalBytes < 0)
        {
            // Unreadable: start the transfer over rather than guess.
            DiscardSnapshot();
            return;
        }

        // Whole chunks in the staging file are what was received; a tail a crash cut short is dropped.
        long length = File.Exists(SnapshotPath) ? new FileInfo(SnapshotPath).Length : 0;
        int next;
        long bytes;
        if (chunkBytes > 0 && length >= totalBytes)
        {
            (next, bytes) = (total, totalBytes);
        }
        else if (chunkBytes > 0)
        {
            next = (int)Math.Min(total - 1, length / chunkBytes);
            bytes = (long)next * chunkBytes;
        }
        else
        {
            (next, bytes) = (0, 0);
        }

        _pending = new SnapshotTransfer(id, lsn, total, totalBytes, checksum, next);
        _pendingBytes = bytes;
        _chunkBytes = chunkBytes;
        _pendingImporting = parts[6] == "1";
        if (_pendingImporting && next != total)
        {
            DiscardSnapshot(); // an import needs the whole snapshot; a damaged staging file starts over
        }
    }

    private void SavePendingSnapshot()
    {
        SnapshotTransfer p = _pending!;
        _db.SetMetadata(SnapshotKey, string.Create(CultureInfo.InvariantCulture,
            $"{p.SnapshotId:X16}:{p.SnapshotLsn}:{p.Total}:{p.TotalBytes}:{p.Checksum}:{_chunkBytes}:{(_pendingImporting ? 1 : 0)}"));
    }

    // The placeholders' HLC: the last dropped op's when it was indexed, else the first kept op's (no
    // older than any dropped one, so the backlog's age stays honest), else the clock's current time.
    private ulong DroppedHlc => _droppedHlc != 0 ? _droppedHlc : _own.Count > 0 ? _own[0].Hlc : _db.Clock.Now().Time;

    // Newest own sequence known: indexed, dropped or acknowledged.
    private long LastKnownSeq => _own.Count > 0 ? _own[^1].Seq : Math.Max(_uploadCursor, _droppedThrough);

    // Indexes own ops appended since the last scan (local writes arrive at any time) and folds in
    // ops the database dropped at its WAL quota meanwhile.
    private void Refresh()
    {
        for (int attempt = 0; ; attempt++)
        {
            FoldDroppedOps();
            try
            {
                Scan();
                return;
            }
            catch (EdgeException ex) when (ex.Code == EdgeErrorCode.WalPositionTrimmed && attempt < 2)
            {
                // A concurrent write dropped (and trimmed) what was being scanned: fold the drop in and go on.
            }
        }
    }

    // Own ops through the database's DroppedOwnSequenceThrough leave as placeholders from now on:
    // indexed ones are forgotten, and the scan skips what the WAL freed with them.
    private void FoldDroppedOps()
    {
        long dropped = checked((long)_db.DroppedOwnSequenceThrough);
        if (dropped <= _droppedThrough)
        {
            return;
        }

        int forget = 0;
        while (forget < _own.Count && _own[forget].Seq <= dropped)
        {
            forget++;
        }

        _droppedHlc = forget > 0 ? _own[forget - 1].Hlc : 0;
        _own.RemoveRange(0, forget);
        _droppedThrough = dropped;
        _scannedThroughLsn = Math.Max(_scannedThroughLsn, _db.Wal.FirstLsn - 1);
    }

    private void Scan()
    {
        long last = _db.Wal.LastLsn;
        if (last <= _scannedThroughLsn)
        {
            return;
        }

        using WalReader reader = _db.Wal.OpenReader(_scannedThroughLsn + 1);
        while (reader.TryRead(out WalRecord record))
        {
            _scannedThroughLsn = record.Lsn;
            if (DatabaseOpPayload.IsOp(record.Kind)
                && OperationHeader.TryRead(record.Payload, out OperationHeader header)
                && header.OriginReplicaId == ReplicaId
                && (long)header.OriginSequence == LastKnownSeq + 1)
            {
                // Only the next own op counts: snapshot records may carry this origin (a vector's HLC) with an older sequence.
                bool priority = _isPriority is not null && OperationTargets.Any(record.Kind, record.Payload[OperationHeader.EncodedBytes..], _matchPriority);
                _own.Add(new OwnOp((long)header.OriginSequence, record.Lsn, header.Timestamp.Time, 1 + record.Payload.Length - OperationHeader.EncodedBytes, priority));
            }

            if (record.Lsn >= last)
            {
                break;
            }
        }
    }

    // Names repeat (a few collections and series, many ops): decode and ask once per name.
    private bool IsPriorityName(ReadOnlySpan<byte> utf8Name)
    {
        Span<char> buffer = stackalloc char[512];
        Span<char> chars = utf8Name.Length <= buffer.Length ? buffer : new char[utf8Name.Length];
        if (!System.Text.Unicode.Utf8.ToUtf16(utf8Name, chars, out _, out int written, replaceInvalidSequences: true).Equals(System.Buffers.OperationStatus.Done))
        {
            return false;
        }

        Dictionary<string, bool>.AlternateLookup<ReadOnlySpan<char>> lookup = _priorityByName.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!lookup.TryGetValue(chars[..written], out bool priority))
        {
            string name = new(chars[..written]);
            priority = _isPriority!(name);
            _priorityByName[name] = priority;
        }

        return priority;
    }

    private long ReadLong(string key) =>
        _db.GetMetadata(key) is { } text ? long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) : 0;

    private readonly record struct OwnOp(long Seq, long Lsn, ulong Hlc, int Bytes, bool Priority);
}
