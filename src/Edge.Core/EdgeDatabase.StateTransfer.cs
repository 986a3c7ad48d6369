using System.Buffers;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.Documents;
using CortexEdge.Core.State;
using CortexEdge.Core.TimeSeries;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>
/// Whole-state transfer between replicas that keep their own logs (sync snapshots): the state is
/// exported as idempotent ops — each document as one <see cref="DocumentOperationKind.MergeState"/>,
/// each vector and tombstone with its HLC, each series' readings as append batches — which another
/// replica applies with <see cref="ApplyStateRecord"/> outside the exactly-once sequence check.
/// Because every op is a CRDT join (or a last-writer-wins write with its original HLC), applying an
/// export to a replica that already holds part of the state gives the same result as applying it
/// to an empty one.
/// </summary>
public sealed partial class EdgeDatabase
{
    /// <summary>
    /// Checkpoints everything appended so far and exports the replicated state at that point, under
    /// the write lock (writers wait until the export ends, so the state, the version vector and the
    /// returned LSN agree). Documents include tombstones (json NULL rows) still held.
    /// </summary>
    /// <param name="versions">Receives the version vector of the exported state.</param>
    /// <param name="sink">Called once per op, in no particular order between modules.</param>
    /// <returns>The LSN the export covers (every record up to it is durable and checkpointed).</returns>
    /// <exception cref="EdgeException">DatabaseFaulted (the checkpoint failed).</exception>
    public long ExportReplicatedState(VersionVector versions, StateTransferSink sink)
    {
        ArgumentNullException.ThrowIfNull(versions);
        ArgumentNullException.ThrowIfNull(sink);
        ThrowIfDisposed();
        lock (_writeLock)
        {
            // The checkpointer never takes the write lock, so waiting for it here cannot deadlock.
            _checkpointer.CheckpointAsync(CancellationToken.None).GetAwaiter().GetResult();
            long lsn = _wal.LastLsn;
            versions.Merge(_versions);
            using (StateReadConnection reader = _store.RentReader())
            {
                using var transaction = reader.Connection.BeginTransaction(deferred: true);
                _documents.ExportState(reader.Connection, transaction, sink);
                VectorModule.ExportState(reader.Connection, transaction, sink);
                transaction.Commit();
            }

            ExportTimeSeries(sink);
            return lsn;
        }
    }

    /// <summary>
    /// Applies one op of a state export (see <see cref="ExportReplicatedState"/>): validated like a
    /// remote op, appended to the WAL with <paramref name="header"/> and applied, but without the
    /// exactly-once check — the header's sequence only raises the version vector (use a sequence
    /// the exporting replica's vector already held). Not acknowledged: call <see cref="FlushAsync"/>
    /// after the last one.
    /// </summary>
    /// <exception cref="EdgeException">The body does not decode (DocumentMalformed, ...): nothing appended; DatabaseFaulted, WAL errors.</exception>
    public void ApplyStateRecord(WalRecordKind kind, OperationHeader header, ReadOnlySpan<byte> body)
    {
        ThrowIfDisposed();
        IStateModule module = ModuleFor(_modulesByKind, kind, _wal.LastLsn + 1);
        module.ValidateRemote(new StateRecord(0, kind, header, body));
        if (CheckpointLagging(out long lagTarget))
        {
            // Bound the overlay while a large export streams in, as local writes do.
            _checkpointer.WaitForCheckpointAsync(lagTarget, CancellationToken.None).GetAwaiter().GetResult();
        }

        byte[] payload = ArrayPool<byte>.Shared.Rent(OperationHeader.EncodedBytes + body.Length);
        try
        {
            body.CopyTo(payload.AsSpan(OperationHeader.EncodedBytes));
            WriteReceipt receipt;
            lock (_writeLock)
            {
                ThrowIfUnwritable();
                _clock.AdvanceTo(header.Timestamp.Time);
                receipt = AppendAndApply(module, kind, header, payload.AsSpan(0, OperationHeader.EncodedBytes + body.Length));
            }

            _checkpointer.Nudge(receipt.Lsn);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    /// <summary>
    /// Merges documents of a state export (<see cref="DocumentOperationKind.MergeState"/> op bodies)
    /// straight into the checkpointed state in one SQLite transaction — the bulk path of a snapshot
    /// import, without a WAL record per document. Durable when it returns. Like
    /// <see cref="ApplyStateRecord"/>, a join: idempotent and safe over existing state. Documents
    /// merged this way do not appear in <see cref="ReadChanges(long, int)"/> (they have no log record).
    /// </summary>
    /// <returns>The number of documents merged.</returns>
    /// <exception cref="EdgeException">DocumentMalformed (nothing merged), StateCorrupt (the transaction failed).</exception>
    public int MergeDocumentStates(IReadOnlyList<ReadOnlyMemory<byte>> mergeStateBodies)
    {
        ArgumentNullException.ThrowIfNull(mergeStateBodies);
        ThrowIfUnwritable();
        try
        {
            return _documents.MergeIntoStore(_store.FilePath, mergeStateBodies, _checkpointer.CheckpointLsn);
        }
        catch (EdgeCorruptionException exception)
        {
            throw new EdgeException(EdgeErrorCode.DocumentMalformed, exception.Message, exception);
        }
        catch (Microsoft.Data.Sqlite.SqliteException exception)
        {
            throw new EdgeException(EdgeErrorCode.StateCorrupt, $"merging snapshot documents into {_store.FilePath} failed: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// Hides every visible document for which <paramref name="keep"/> answers false, as a
    /// <see cref="DocumentOperationKind.MergeState"/> tombstone just after the document's latest timestamp
    /// appended with <paramref name="header"/> (outside the exactly-once check, like
    /// <see cref="ApplyStateRecord"/>). Used when a snapshot replaces the state: a document the
    /// snapshot lacks was deleted and purged upstream and must not come back here.
    /// </summary>
    /// <returns>The number of documents hidden.</returns>
    public int HideDocumentsNotIn(Func<string, string, bool> keep, OperationHeader header)
    {
        ArgumentNullException.ThrowIfNull(keep);
        ThrowIfDisposed();
        var hide = new List<(string Collection, string Key, HlcTimestamp LastChange)>();
        foreach ((string collection, string key) in _documents.ListVisibleKeys())
        {
            if (!keep(collection, key) && _documents.GetState(collection, key) is { Exists: true } state)
            {
                hide.Add((collection, key, state.LastChange));
            }
        }

        var buffer = new ArrayBufferWriter<byte>();
        foreach ((string collection, string key, HlcTimestamp lastChange) in hide)
        {
            var tombstone = new DocumentState();
            // Just after the latest change: a field stamped exactly at a delete's time stays visible.
            tombstone.Apply(new DocumentOperation(DocumentOperationKind.Delete, collection, key, []), new HlcTimestamp(lastChange.Time + 1, lastChange.ReplicaId));
            buffer.ResetWrittenCount();
            DocumentCodec.EncodeMergeState(buffer, collection, key, tombstone.Encode());
            ApplyStateRecord(WalRecordKind.Document, header, buffer.WrittenSpan);
        }

        return hide.Count;
    }

    /// <summary>
    /// The body of a <see cref="DocumentOperationKind.MergeState"/> op that merges an empty state:
    /// it changes nothing and the document never becomes visible. Sync uses it to carry a version
    /// vector sequence through <see cref="ApplyStateRecord"/> when there is no document to carry it.
    /// </summary>
    public static byte[] EncodeEmptyStateMerge(string collection, string key)
    {
        var buffer = new ArrayBufferWriter<byte>();
        DocumentCodec.EncodeMergeState(buffer, collection, key, new DocumentState().Encode());
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The collection and key of a <see cref="WalRecordKind.Document"/> op body, or false for another
    /// kind or a body that does not decode (sync uses it to see which documents own ops touch).
    /// </summary>
    public static bool TryGetDocumentKey(WalRecordKind kind, ReadOnlySpan<byte> body, out string collection, out string key)
    {
        collection = key = string.Empty;
        if (kind != WalRecordKind.Document)
        {
            return false;
        }

        try
        {
            // The target only: the rest of the body (a whole state, for a merge) is not needed here.
            (collection, key) = DocumentCodec.DecodeTarget(body, 0);
            return true;
        }
        catch (EdgeException)
        {
            return false;
        }
    }

    /// <summary>
    /// Deletes document tombstones (rows of deleted documents) last changed at or below
    /// <paramref name="throughLsn"/> from the checkpointed state, after checkpointing what is
    /// pending. A write that reaches a purged document later starts it afresh; the caller (sync)
    /// purges only past what every replica that could still send a concurrent write has seen.
    /// </summary>
    /// <returns>The number of tombstones purged.</returns>
    public int PurgeDocumentTombstones(long throughLsn)
    {
        ThrowIfDisposed();
        _checkpointer.CheckpointAsync(CancellationToken.None).GetAwaiter().GetResult();
        return _documents.PurgeTombstones(_store.FilePath, Math.Min(throughLsn, _checkpointer.CheckpointLsn));
    }

    private void ExportTimeSeries(StateTransferSink sink)
    {
        // Readings merge as a set union keyed by (timestamp, origin): each origin's readings travel
        // as their own batches with that origin in the timestamp (time 0: readings carry their own
        // times, and the importer's clock must not jump to them), so the importer files them under
        // the same origin instead of re-stamping them as the carrier's.
        var byOrigin = new Dictionary<ulong, List<TimeSeriesReading>>();
        byte[] buffer = [];
        foreach (TimeSeriesInfo series in ListSeries())
        {
            foreach (List<TimeSeriesReading> list in byOrigin.Values)
            {
                list.Clear();
            }

            foreach ((TimeSeriesReading reading, ulong origin) in ReadRangeWithOrigins(series.Name, TimeSeriesLimits.TimestampMin, TimeSeriesLimits.TimestampMax + 1))
            {
                if (!byOrigin.TryGetValue(origin, out List<TimeSeriesReading>? list))
                {
                    byOrigin[origin] = list = [];
                }

                list.Add(reading);
            }

            foreach ((ulong origin, List<TimeSeriesReading> readings) in byOrigin)
            {
                for (int start = 0; start < readings.Count; start += TimeSeriesLimits.BatchReadingsMax)
                {
                    int count = Math.Min(TimeSeriesLimits.BatchReadingsMax, readings.Count - start);
                    int bytesMax = TimeSeriesBatchCodec.MaxAppendBytes(1, count);
                    if (buffer.Length < bytesMax)
                    {
                        buffer = new byte[bytesMax];
                    }

                    int length = TimeSeriesBatchCodec.WriteAppend(buffer, series.Name, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(readings).Slice(start, count));
                    sink(WalRecordKind.TimeSeriesBatch, new HlcTimestamp(0, origin), buffer.AsSpan(0, length));
                }
            }
        }
    }
}
