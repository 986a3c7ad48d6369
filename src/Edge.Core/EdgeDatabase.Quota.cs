using System.Globalization;
using CortexEdge.Core.Documents;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>
/// The WAL quota and droppable collections: when own ops not yet uploaded fill the WAL up to its
/// quota, the oldest of them may be dropped from the upload queue, a segment at a time, if every
/// one of them belongs to a collection in <see cref="EdgeDatabaseOptions.DroppableCollections"/>.
/// </summary>
/// <remarks>
/// Dropping never loses an acknowledged write here: a segment is freed only once every record in it
/// is checkpointed into SQLite, so the dropped ops stay applied and readable; only their upload is
/// given up. What is dropped is counted per collection and persisted (local metadata, in the same
/// transaction that moves the sync upload hold), never silent. Ops of other collections are never
/// dropped: a write that would need it fails with <see cref="EdgeErrorCode.WalQuotaExceeded"/>.
/// </remarks>
public sealed partial class EdgeDatabase
{
    /// <summary>Prefix of the local metadata names counting dropped ops per collection (the value is the count).</summary>
    public const string DroppedOpsPrefix = "wal.dropped.";

    /// <summary>Local metadata name of the highest own origin sequence dropped from the upload queue.</summary>
    public const string DroppedOwnSequenceKey = "wal.dropped-own-seq";

    private readonly Lock _dropLock = new();
    private readonly Dictionary<string, long> _droppedOpCounts = new(StringComparer.Ordinal); // guarded by _dropLock
    private HashSet<string> _droppableCollections = [];
    private ulong _droppedOwnSequenceThrough; // guarded by _dropLock

    /// <summary>Highest own origin sequence dropped from the upload queue (0: none); see <see cref="EdgeDatabaseStats.DroppedOwnSequenceThrough"/>.</summary>
    public ulong DroppedOwnSequenceThrough
    {
        get
        {
            lock (_dropLock)
            {
                return _droppedOwnSequenceThrough;
            }
        }
    }

    private IReadOnlyDictionary<string, long> GetDroppedOpCounts()
    {
        lock (_dropLock)
        {
            return new Dictionary<string, long>(_droppedOpCounts, StringComparer.Ordinal);
        }
    }

    // Called on open, after the persisted holds are applied.
    private void LoadDroppedOpCounts()
    {
        _droppableCollections = new HashSet<string>(Options.DroppableCollections, StringComparer.Ordinal);
        lock (_dropLock)
        {
            foreach (KeyValuePair<string, string> entry in GetMetadataByPrefix(DroppedOpsPrefix))
            {
                _droppedOpCounts[entry.Key[DroppedOpsPrefix.Length..]] = ParseMetadataNumber(entry);
            }

            string? through = GetMetadata(DroppedOwnSequenceKey);
            _droppedOwnSequenceThrough = through is null ? 0 : (ulong)ParseMetadataNumber(new KeyValuePair<string, string>(DroppedOwnSequenceKey, through));
        }
    }

    /// <summary>
    /// A write refused at the quota while droppable collections exist: bring the checkpoint up to date
    /// (only checkpointed segments can be freed), retry, and while still over the quota drop the oldest
    /// segment of unsent ops if they are all droppable. Bounded by the number of segments the quota holds.
    /// </summary>
    private async ValueTask<WriteReceipt> AppendDroppingAsync(WalRecordKind kind, byte[] payload, EdgeException quotaError, CancellationToken cancellationToken)
    {
        EdgeException error = quotaError;
        int attemptCountMax = (int)(_wal.QuotaBytes / Options.WalSegmentBytes) + 2;
        for (int attempt = 0; attempt < attemptCountMax; attempt++)
        {
            await _checkpointer.CheckpointAsync(cancellationToken).ConfigureAwait(false);
            WriteReceipt receipt;
            try
            {
                receipt = AppendOperation(kind, payload);
            }
            catch (EdgeException exception) when (exception.Code == EdgeErrorCode.WalQuotaExceeded)
            {
                error = exception;
                if (TryDropOldestUnsentSegment(out string? refusal))
                {
                    continue;
                }

                throw new EdgeException(EdgeErrorCode.WalQuotaExceeded, $"{error.Message}. Nothing can be dropped to make room: {refusal}", error);
            }

            return await CompleteWriteAsync(receipt, cancellationToken).ConfigureAwait(false);
        }

        throw new EdgeException(EdgeErrorCode.WalQuotaExceeded, $"{error.Message}. Dropping unsent ops of droppable collections did not make room after {attemptCountMax} segments", error);
    }

    /// <summary>
    /// Moves the sync upload hold past the oldest held segment when every own op in it from the hold on
    /// belongs to a droppable collection and the segment is checkpointed; counts and persists what it
    /// dropped. Returns false, with the reason, when nothing may be dropped.
    /// </summary>
    private bool TryDropOldestUnsentSegment(out string? refusal)
    {
        lock (_dropLock)
        {
            IReadOnlyDictionary<string, long> holds = _wal.GetRetentionHolds();
            if (!holds.TryGetValue(SyncUploadHoldName, out long hold))
            {
                refusal = "no sync upload hold keeps unsent ops (the WAL is full of records not yet checkpointed or kept by another hold)";
                return false;
            }

            long from = Math.Max(hold, _wal.FirstLsn);
            long end = _wal.NextSegmentFirstLsn(from);
            if (end == 0)
            {
                refusal = $"the unsent ops from LSN {from} are all in the active WAL segment";
                return false;
            }

            if (end - 1 > _checkpointer.CheckpointLsn)
            {
                refusal = $"LSNs {from}..{end - 1} are not checkpointed yet (checkpoint LSN {_checkpointer.CheckpointLsn})";
                return false;
            }

            foreach ((string name, long lsn) in holds)
            {
                if (name != SyncUploadHoldName && lsn < end)
                {
                    refusal = $"retention hold '{name}' also keeps LSN {lsn}";
                    return false;
                }
            }

            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            ulong ownSequenceThrough = 0;
            using (WalReader reader = _wal.OpenReader(from))
            {
                while (reader.NextLsn < end && reader.TryRead(out WalRecord record))
                {
                    if (record.Kind == WalRecordKind.Checkpoint)
                    {
                        continue;
                    }

                    StateRecord state = ToStateRecord(record.Lsn, record.Kind, record.Payload);
                    if (state.Header.OriginReplicaId != ReplicaId)
                    {
                        continue; // another replica's op: not this node's to upload
                    }

                    string? collection = record.Kind == WalRecordKind.Document ? DocumentCodec.DecodeTarget(state.Body, record.Lsn).Collection : null;
                    if (collection is null || !_droppableCollections.Contains(collection))
                    {
                        refusal = $"the oldest unsent op at LSN {record.Lsn} ({(collection is null ? record.Kind.ToString() : $"collection '{collection}'")}) is not droppable";
                        return false;
                    }

                    counts[collection] = counts.GetValueOrDefault(collection) + 1;
                    ownSequenceThrough = Math.Max(ownSequenceThrough, state.Header.OriginSequence);
                }
            }

            // Counts and the moved hold in one durable transaction: a crash cannot drop uncounted.
            var entries = new List<KeyValuePair<string, string>>(counts.Count + 2);
            foreach ((string collection, long count) in counts)
            {
                entries.Add(new(DroppedOpsPrefix + collection, (_droppedOpCounts.GetValueOrDefault(collection) + count).ToString(CultureInfo.InvariantCulture)));
            }

            ulong through = Math.Max(_droppedOwnSequenceThrough, ownSequenceThrough);
            entries.Add(new(DroppedOwnSequenceKey, through.ToString(CultureInfo.InvariantCulture)));
            entries.Add(new(RetentionHoldPrefix + SyncUploadHoldName, end.ToString(CultureInfo.InvariantCulture)));
            SetMetadata(entries);
            foreach ((string collection, long count) in counts)
            {
                _droppedOpCounts[collection] = _droppedOpCounts.GetValueOrDefault(collection) + count;
            }

            _droppedOwnSequenceThrough = through;
            _wal.SetRetentionHold(SyncUploadHoldName, end);
            refusal = null;
            return true;
        }
    }

    private long ParseMetadataNumber(KeyValuePair<string, string> entry) =>
        long.TryParse(entry.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new EdgeCorruptionException(EdgeErrorCode.StateCorrupt, $"{Path.Combine(Directory, StateStore.FileName)} table ce_local_meta '{entry.Key}'",
                $"'{entry.Key}' holds the invalid number '{entry.Value}'");
}
