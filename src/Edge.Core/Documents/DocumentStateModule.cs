using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core.Documents;

/// <summary>
/// Documents as a state module: <see cref="WalRecordKind.Document"/> records, an in-memory overlay of
/// per-document deltas not yet checkpointed, and the SQLite table <c>ce_documents</c> (CRDT state
/// blob + materialized JSON per key). Reads merge the overlay over SQLite (overlay read first).
/// </summary>
internal sealed class DocumentStateModule : IStateModule
{
    // Named parameters serve both binders: SqliteCommand binds them by name, PreparedStatement by
    // index (SQLite numbers distinct names 1, 2, ... in order of appearance).
    private const string SelectStateSql = "SELECT state FROM ce_documents WHERE collection = $collection AND key = $key;";
    private const string UpsertSql =
        "INSERT INTO ce_documents(collection, key, state, json, lsn) VALUES($collection, $key, $state, $json, $lsn) " +
        "ON CONFLICT(collection, key) DO UPDATE SET state = excluded.state, json = excluded.json, lsn = excluded.lsn;";
    private const string ScanSql = "SELECT key, state, json FROM ce_documents WHERE collection = $collection AND key >= $from ORDER BY key;";

    private static readonly WalRecordKind[] s_kinds = [WalRecordKind.Document];

    private readonly object _overlayLock = new();
    private readonly Dictionary<string, SortedDictionary<string, OverlayEntry>> _overlay = new(StringComparer.Ordinal);
    private readonly Queue<(long Lsn, string Collection, string Key)> _overlayOrder = new();
    // The batch's ops per document, as their encoded bodies: the delta state is built per document
    // only when it is written, so a batch does not keep a state object per document alive.
    // Bodies are copied into one arena and chained per document, so staging keeps no object per op.
    private readonly Dictionary<(string Collection, string Key), StagedChain> _staged = [];
    private readonly List<StagedOp> _stagedOps = [];
    private ArrayBufferWriter<byte> _stagedBodies = new(64 * 1024);
    private readonly Func<StateReadConnection> _rentReader;
    // Conflict counts: checkpointed totals (persisted in ce_conflicts with the checkpoint, so a
    // replayed op is never counted twice) plus counts of applied ops not yet checkpointed.
    private readonly Lock _conflictLock = new();
    private readonly Dictionary<string, CollectionConflictStats> _checkpointedConflicts = new(StringComparer.Ordinal);
    private readonly List<(long Lsn, string Collection, CollectionConflictStats Counts)> _pendingConflicts = [];
    private Dictionary<string, CollectionConflictStats>? _writtenConflicts;
    private int _overlayCount;
    // Checkpointer thread only: reused encode buffers for the state blob and the materialized JSON.
    private ArrayBufferWriter<byte> _stateBuffer = new(256);
    private ArrayBufferWriter<byte> _jsonBuffer = new(256);
    private Utf8JsonWriter? _jsonWriter;
    private readonly List<KeyValuePair<(string Collection, string Key), StagedChain>> _writeOrder = [];
    private static readonly Comparison<KeyValuePair<(string Collection, string Key), StagedChain>> s_stagedOrder = (left, right) =>
    {
        int order = Utf8KeyComparer.Instance.Compare(left.Key.Collection, right.Key.Collection);
        return order != 0 ? order : Utf8KeyComparer.Instance.Compare(left.Key.Key, right.Key.Key);
    };

    public DocumentStateModule(Func<StateReadConnection> rentReader)
    {
        _rentReader = rentReader;
    }

    public string Name => "documents";

    public IReadOnlyList<WalRecordKind> RecordKinds => s_kinds;

    /// <summary>This database's replica id: ops from any other origin are checked for conflicts as they are applied. Set before replay.</summary>
    public ulong LocalReplicaId { get; set; }

    /// <summary>Documents currently held in the overlay (changed since the last checkpoint).</summary>
    public int OverlayDocumentCount => Volatile.Read(ref _overlayCount);

    public void CreateSchema(SqliteConnection connection, SqliteTransaction transaction)
    {
        StateStore.Execute(connection, transaction,
            "CREATE TABLE IF NOT EXISTS ce_documents(collection TEXT NOT NULL, key TEXT NOT NULL, state BLOB NOT NULL, json TEXT, lsn INTEGER NOT NULL, PRIMARY KEY(collection, key)) WITHOUT ROWID;");
        StateStore.Execute(connection, transaction,
            "CREATE TABLE IF NOT EXISTS ce_conflicts(collection TEXT NOT NULL PRIMARY KEY, discarded_writes INTEGER NOT NULL, siblings_created INTEGER NOT NULL, remote_ops INTEGER NOT NULL) WITHOUT ROWID;");
    }

    public void Load(SqliteConnection connection)
    {
        // Documents live in SQLite and are read on demand; only the conflict totals are preloaded.
        using SqliteCommand select = connection.CreateCommand();
        select.CommandText = "SELECT collection, discarded_writes, siblings_created, remote_ops FROM ce_conflicts;";
        using SqliteDataReader rows = select.ExecuteReader();
        lock (_conflictLock)
        {
            while (rows.Read())
            {
                _checkpointedConflicts[rows.GetString(0)] = new CollectionConflictStats(rows.GetInt64(1), rows.GetInt64(2), rows.GetInt64(3));
            }
        }
    }

    public void ValidateRemote(in StateRecord record)
    {
        try
        {
            DocumentCodec.Decode(record.Body, $"remote op {record.Header}");
        }
        catch (EdgeCorruptionException exception)
        {
            // Bad input from the network, not damaged local data: a plain error, and nothing persisted.
            throw new EdgeException(EdgeErrorCode.DocumentMalformed, exception.Message, exception);
        }
    }

    public void Apply(in StateRecord record)
    {
        DocumentOperation operation = DocumentCodec.Decode(record.Body, record.Lsn);
        if (record.Header.OriginReplicaId != LocalReplicaId)
        {
            CountConflicts(record.Lsn, operation, record.Header.Timestamp);
        }

        lock (_overlayLock)
        {
            if (!_overlay.TryGetValue(operation.Collection, out SortedDictionary<string, OverlayEntry>? documents))
            {
                documents = new SortedDictionary<string, OverlayEntry>(Utf8KeyComparer.Instance);
                _overlay.Add(operation.Collection, documents);
            }

            if (!documents.TryGetValue(operation.Key, out OverlayEntry? entry))
            {
                entry = new OverlayEntry();
                documents.Add(operation.Key, entry);
                _overlayCount++;
            }

            entry.Delta.Apply(operation, record.Header.Timestamp);
            entry.LastLsn = record.Lsn;
            _overlayOrder.Enqueue((record.Lsn, operation.Collection, operation.Key));
        }
    }

    public void StageCheckpoint(in StateRecord record)
    {
        // Only the target is read here (it is validated in full when the batch is written).
        (string collection, string key) = DocumentCodec.DecodeTarget(record.Body, record.Lsn);
        int index = _stagedOps.Count;
        int offset = _stagedBodies.WrittenCount;
        record.Body.CopyTo(_stagedBodies.GetSpan(record.Body.Length));
        _stagedBodies.Advance(record.Body.Length);
        _stagedOps.Add(new StagedOp { Lsn = record.Lsn, Timestamp = record.Header.Timestamp, Offset = offset, Length = record.Body.Length, Next = -1 });
        ref StagedChain chain = ref CollectionsMarshal.GetValueRefOrAddDefault(_staged, (collection, key), out bool exists);
        if (exists)
        {
            CollectionsMarshal.AsSpan(_stagedOps)[chain.Tail].Next = index;
            chain = new StagedChain(chain.Head, index);
        }
        else
        {
            chain = new StagedChain(index, index);
        }
    }

    public void WriteCheckpoint(SqliteConnection connection, SqliteTransaction transaction, long throughLsn)
    {
        WriteConflicts(connection, transaction, throughLsn);
        if (_staged.Count == 0)
        {
            return;
        }

        // Raw statements bound from spans, prepared once per batch: per document one primary-key
        // lookup and one upsert, no boxing, no UTF-16 round trip of the JSON, no reader objects.
        using PreparedStatement select = PreparedStatement.Prepare(connection, SelectStateSql);
        using PreparedStatement upsert = PreparedStatement.Prepare(connection, UpsertSql);
        _jsonWriter ??= new Utf8JsonWriter(_jsonBuffer);
        // In primary-key order: each B-tree page is visited once per batch, not once per document.
        _writeOrder.Clear();
        _writeOrder.AddRange(_staged);
        _writeOrder.Sort(s_stagedOrder);
        foreach (KeyValuePair<(string Collection, string Key), StagedChain> staged in _writeOrder)
        {
            (string collection, string key) = staged.Key;
            DocumentState state = StagedDelta(staged.Value);
            select.BindText(1, collection);
            select.BindText(2, key);
            try
            {
                if (select.Step())
                {
                    DocumentState stored = DocumentState.Decode(select.ColumnBlob(0), $"table ce_documents, collection '{collection}', key '{key}'");
                    stored.Merge(state);
                    state = stored;
                }

                // No row yet: the batch's delta is the whole state (a join with the empty state is itself).
            }
            finally
            {
                select.Reset();
            }

            _stateBuffer.ResetWrittenCount();
            state.EncodeTo(_stateBuffer);
            upsert.BindText(1, collection);
            upsert.BindText(2, key);
            upsert.BindBlob(3, _stateBuffer.WrittenSpan);
            if (state.Exists)
            {
                _jsonBuffer.ResetWrittenCount();
                _jsonWriter.Reset(_jsonBuffer);
                state.WriteJson(_jsonWriter);
                _jsonWriter.Flush();
                upsert.BindUtf8Text(4, _jsonBuffer.WrittenSpan);
            }
            else
            {
                upsert.BindNull(4);
            }

            upsert.BindInt64(5, throughLsn);
            upsert.Execute();
        }

        _writeOrder.Clear();
        if (_stateBuffer.Capacity > 1 << 20)
        {
            _stateBuffer = new ArrayBufferWriter<byte>(256); // don't pin a huge buffer after one large document
            _jsonBuffer = new ArrayBufferWriter<byte>(256);
            _jsonWriter = null;
        }
    }

    public void CompleteCheckpoint(long throughLsn)
    {
        ClearStaged();
        lock (_conflictLock)
        {
            if (_writtenConflicts is not null)
            {
                foreach (KeyValuePair<string, CollectionConflictStats> total in _writtenConflicts)
                {
                    _checkpointedConflicts[total.Key] = total.Value;
                }

                _pendingConflicts.RemoveAll(p => p.Lsn <= throughLsn);
                _writtenConflicts = null;
            }
        }

        lock (_overlayLock)
        {
            while (_overlayOrder.TryPeek(out var head) && head.Lsn <= throughLsn)
            {
                _overlayOrder.Dequeue();
                if (_overlay.TryGetValue(head.Collection, out SortedDictionary<string, OverlayEntry>? documents)
                    && documents.TryGetValue(head.Key, out OverlayEntry? entry)
                    && entry.LastLsn <= throughLsn)
                {
                    documents.Remove(head.Key);
                    _overlayCount--;
                    if (documents.Count == 0)
                    {
                        _overlay.Remove(head.Collection);
                    }
                }
            }
        }
    }

    public void AbortCheckpoint()
    {
        ClearStaged();
        lock (_conflictLock)
        {
            _writtenConflicts = null;
        }
    }

    /// <summary>The document, or null when absent or deleted. Sees every applied op.</summary>
    public EdgeDocument? Get(string collection, string key)
    {
        DocumentState? state = GetState(collection, key);
        return state is { Exists: true } ? new EdgeDocument(collection, key, state.ToJsonUtf8(), state.LastChange) : null;
    }

    /// <summary>The HLC of the last op folded into the document, deletes included; zero when no op ever touched it (or its state was lost).</summary>
    public Clocks.HlcTimestamp GetLastChange(string collection, string key) => GetState(collection, key)?.LastChange ?? Clocks.HlcTimestamp.Zero;

    /// <summary>Conflicts counted per collection over the database's life (checkpointed totals plus ops applied since).</summary>
    public IReadOnlyDictionary<string, CollectionConflictStats> GetConflictStats()
    {
        lock (_conflictLock)
        {
            var totals = new Dictionary<string, CollectionConflictStats>(_checkpointedConflicts, StringComparer.Ordinal);
            foreach ((long _, string collection, CollectionConflictStats counts) in _pendingConflicts)
            {
                totals[collection] = Add(totals.GetValueOrDefault(collection), counts);
            }

            return totals;
        }
    }

    /// <summary>The full CRDT state of a document (overlay merged over SQLite), or null when it was never written. Sees every applied op.</summary>
    public DocumentState? GetState(string collection, string key)
    {
        // Overlay first, then SQLite: the checkpointer commits before it drops overlay entries.
        DocumentState? delta = null;
        lock (_overlayLock)
        {
            if (_overlay.TryGetValue(collection, out SortedDictionary<string, OverlayEntry>? documents)
                && documents.TryGetValue(key, out OverlayEntry? entry))
            {
                delta = entry.Delta.Clone();
            }
        }

        DocumentState? state;
        using (StateReadConnection reader = _rentReader())
        {
            SqliteCommand select = reader.Command(SelectStateSql, "$collection", "$key");
            select.Parameters[0].Value = collection;
            select.Parameters[1].Value = key;
            state = ReadState(select, collection, key);
        }

        if (delta is not null)
        {
            state ??= new DocumentState();
            state.Merge(delta);
        }

        return state;
    }

    // Conflicts are judged against the full state before the op: the overlay alone is partial.
    // Runs under the database's write lock, so the state cannot change between read and apply.
    private void CountConflicts(long lsn, DocumentOperation operation, HlcTimestamp timestamp)
    {
        Crdt.CrdtMergeOutcome outcome = default;
        if (CanConflict(operation))
        {
            DocumentState state = GetState(operation.Collection, operation.Key) ?? new DocumentState();
            outcome = state.Apply(operation, timestamp);
        }

        lock (_conflictLock)
        {
            _pendingConflicts.Add((lsn, operation.Collection, new CollectionConflictStats(outcome.DiscardedWrites, outcome.SiblingsCreated, 1)));
        }
    }

    // Only LWW writes (put, patch) can be discarded and only multi-value writes create siblings;
    // counter, set and delete ops never conflict, so they skip reading the full state.
    private static bool CanConflict(DocumentOperation operation)
    {
        switch (operation.Kind)
        {
            case DocumentOperationKind.Put or DocumentOperationKind.Patch:
                return true;
            case DocumentOperationKind.Crdt:
                foreach (DocumentField field in operation.Fields)
                {
                    if (field.Utf8JsonValue.Span[0] == (byte)DocumentFieldType.MvRegister)
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    // Inside the checkpoint transaction: the totals through throughLsn, made visible to stats only
    // once CompleteCheckpoint confirms the commit.
    private void WriteConflicts(SqliteConnection connection, SqliteTransaction transaction, long throughLsn)
    {
        Dictionary<string, CollectionConflictStats> totals;
        lock (_conflictLock)
        {
            if (!_pendingConflicts.Exists(p => p.Lsn <= throughLsn))
            {
                return;
            }

            totals = new Dictionary<string, CollectionConflictStats>(StringComparer.Ordinal);
            foreach ((long pendingLsn, string collection, CollectionConflictStats counts) in _pendingConflicts)
            {
                if (pendingLsn <= throughLsn)
                {
                    totals[collection] = Add(totals.TryGetValue(collection, out CollectionConflictStats sum) ? sum : _checkpointedConflicts.GetValueOrDefault(collection), counts);
                }
            }

            _writtenConflicts = totals;
        }

        using SqliteCommand upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText =
            "INSERT INTO ce_conflicts(collection, discarded_writes, siblings_created, remote_ops) VALUES($collection, $discarded, $siblings, $remote) " +
            "ON CONFLICT(collection) DO UPDATE SET discarded_writes = excluded.discarded_writes, siblings_created = excluded.siblings_created, remote_ops = excluded.remote_ops;";
        SqliteParameter collectionParameter = upsert.Parameters.Add("$collection", SqliteType.Text);
        SqliteParameter discarded = upsert.Parameters.Add("$discarded", SqliteType.Integer);
        SqliteParameter siblings = upsert.Parameters.Add("$siblings", SqliteType.Integer);
        SqliteParameter remote = upsert.Parameters.Add("$remote", SqliteType.Integer);
        foreach (KeyValuePair<string, CollectionConflictStats> total in totals)
        {
            collectionParameter.Value = total.Key;
            discarded.Value = total.Value.DiscardedWrites;
            siblings.Value = total.Value.SiblingsCreated;
            remote.Value = total.Value.RemoteOperations;
            upsert.ExecuteNonQuery();
        }
    }

    private static CollectionConflictStats Add(CollectionConflictStats left, CollectionConflictStats right) =>
        new(left.DiscardedWrites + right.DiscardedWrites, left.SiblingsCreated + right.SiblingsCreated, left.RemoteOperations + right.RemoteOperations);

    /// <summary>Documents of <paramref name="collection"/> matching <paramref name="query"/>, in key order (UTF-8 byte order).</summary>
    public IEnumerable<EdgeDocument> Scan(string collection, DocumentQuery query)
    {
        // Snapshot the overlay before opening the SQLite read: see Get.
        var deltas = new List<(string Key, DocumentState Delta)>();
        lock (_overlayLock)
        {
            if (_overlay.TryGetValue(collection, out SortedDictionary<string, OverlayEntry>? documents))
            {
                foreach (KeyValuePair<string, OverlayEntry> entry in documents)
                {
                    if (entry.Key.StartsWith(query.KeyPrefix, StringComparison.Ordinal))
                    {
                        deltas.Add((entry.Key, entry.Value.Delta.Clone()));
                    }
                }
            }
        }

        return ScanMerged(collection, query, deltas);
    }

    private IEnumerable<EdgeDocument> ScanMerged(string collection, DocumentQuery query, List<(string Key, DocumentState Delta)> deltas)
    {
        int returned = 0;
        int deltaIndex = 0;
        using StateReadConnection reader = _rentReader();
        using SqliteCommand scan = reader.Connection.CreateCommand();
        scan.CommandText = ScanSql;
        scan.Parameters.AddWithValue("$collection", collection);
        scan.Parameters.AddWithValue("$from", query.KeyPrefix);
        using SqliteDataReader rows = scan.ExecuteReader();
        bool hasRow = NextRow(rows, query.KeyPrefix, out string? rowKey);
        while (returned < query.Limit && (hasRow || deltaIndex < deltas.Count))
        {
            int order = !hasRow ? 1 : deltaIndex >= deltas.Count ? -1 : Utf8KeyComparer.Instance.Compare(rowKey, deltas[deltaIndex].Key);
            EdgeDocument? document;
            if (order < 0)
            {
                // Only in SQLite: the materialized JSON is current.
                document = rows.IsDBNull(2) ? null : FromSqlite(collection, rowKey!, rows);
                hasRow = NextRow(rows, query.KeyPrefix, out rowKey);
            }
            else
            {
                DocumentState state = order == 0 ? DecodeState(rows, collection, rowKey!) : new DocumentState();
                state.Merge(deltas[deltaIndex].Delta);
                document = state.Exists ? new EdgeDocument(collection, deltas[deltaIndex].Key, state.ToJsonUtf8(), state.LastChange) : null;
                deltaIndex++;
                if (order == 0)
                {
                    hasRow = NextRow(rows, query.KeyPrefix, out rowKey);
                }
            }

            if (document is not null && Matches(document, query.Filters))
            {
                returned++;
                yield return document;
            }
        }
    }

    private static bool NextRow(SqliteDataReader rows, string prefix, out string? key)
    {
        if (rows.Read())
        {
            key = rows.GetString(0);
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        key = null;
        return false;
    }

    private static EdgeDocument FromSqlite(string collection, string key, SqliteDataReader rows)
    {
        DocumentState state = DecodeState(rows, collection, key);
        return new EdgeDocument(collection, key, System.Text.Encoding.UTF8.GetBytes(rows.GetString(2)), state.LastChange);
    }

    private static DocumentState DecodeState(SqliteDataReader rows, string collection, string key)
    {
        byte[] blob = (byte[])rows.GetValue(1);
        return DocumentState.Decode(blob, $"table ce_documents, collection '{collection}', key '{key}'");
    }

    private static bool Matches(EdgeDocument document, IReadOnlyList<DocumentFilter> filters)
    {
        if (filters.Count == 0)
        {
            return true;
        }

        using JsonDocument parsed = document.Parse();
        foreach (DocumentFilter filter in filters)
        {
            if (!filter.Matches(parsed.RootElement))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Exports every checkpointed document (tombstones included) as a <see cref="DocumentOperationKind.MergeState"/> op; call with the overlay empty.</summary>
    public void ExportState(SqliteConnection connection, SqliteTransaction transaction, StateTransferSink sink)
    {
        using SqliteCommand select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = "SELECT collection, key, state FROM ce_documents ORDER BY collection, key;";
        using SqliteDataReader rows = select.ExecuteReader();
        var buffer = new ArrayBufferWriter<byte>(256);
        while (rows.Read())
        {
            buffer.ResetWrittenCount();
            DocumentCodec.EncodeMergeState(buffer, rows.GetString(0), rows.GetString(1), (byte[])rows.GetValue(2));
            sink(WalRecordKind.Document, HlcTimestamp.Zero, buffer.WrittenSpan);
        }
    }

    /// <summary>
    /// Merges <see cref="DocumentOperationKind.MergeState"/> op bodies straight into the checkpointed
    /// rows, in one transaction on a connection of its own (read, join, write back; SQLite serializes
    /// it with the checkpointer, which merges its own deltas over whatever row it reads). Reads stay
    /// correct because they merge the overlay over SQLite, and a join commutes.
    /// </summary>
    public int MergeIntoStore(string stateFile, IReadOnlyList<ReadOnlyMemory<byte>> bodies, long lsn)
    {
        using SqliteConnection connection = OpenWriteConnection(stateFile);
        using SqliteTransaction transaction = connection.BeginTransaction();
        using SqliteCommand select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = SelectStateSql;
        SqliteParameter selectCollection = select.Parameters.Add("$collection", SqliteType.Text);
        SqliteParameter selectKey = select.Parameters.Add("$key", SqliteType.Text);
        select.Prepare();
        using SqliteCommand upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = UpsertSql;
        SqliteParameter upsertCollection = upsert.Parameters.Add("$collection", SqliteType.Text);
        SqliteParameter upsertKey = upsert.Parameters.Add("$key", SqliteType.Text);
        SqliteParameter upsertState = upsert.Parameters.Add("$state", SqliteType.Blob);
        SqliteParameter upsertJson = upsert.Parameters.Add("$json", SqliteType.Text);
        SqliteParameter upsertLsn = upsert.Parameters.Add("$lsn", SqliteType.Integer);
        upsert.Prepare();
        upsertLsn.Value = lsn;
        // A new replica's table is empty (before the first batch): nothing to read and join, the
        // leader's encoding is stored as is.
        bool empty;
        using (SqliteCommand any = connection.CreateCommand())
        {
            any.Transaction = transaction;
            any.CommandText = "SELECT NOT EXISTS(SELECT 1 FROM ce_documents);";
            empty = Convert.ToBoolean(any.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }

        // Decoding and materializing JSON is most of the cost and needs no SQLite: done in parallel,
        // then the rows are written in order on this connection.
        var prepared = new PreparedState[bodies.Count];
        try
        {
            Parallel.For(0, bodies.Count, i =>
            {
                ReadOnlySpan<byte> encoded = DocumentCodec.ReadMergeState(bodies[i].Span, "snapshot document", out string collection, out string key);
                DocumentState state = DocumentState.Decode(encoded, $"snapshot document '{key}'");
                prepared[i] = new PreparedState(collection, key, state, encoded.ToArray(), state.Exists ? state.ToJson() : null);
            });
        }
        catch (AggregateException exception) when (exception.InnerException is EdgeException inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
        }

        foreach (PreparedState item in prepared)
        {
            DocumentState state = item.State;
            byte[] stored = item.Encoded;
            string? json = item.Json;
            if (!empty && ReadExisting(item.Collection, item.Key) is { } existing)
            {
                existing.Merge(state);
                state = existing;
                stored = state.Encode();
                json = state.Exists ? state.ToJson() : null;
            }

            upsertCollection.Value = item.Collection;
            upsertKey.Value = item.Key;
            upsertState.Value = stored;
            upsertJson.Value = json is null ? DBNull.Value : json;
            upsert.ExecuteNonQuery();
        }

        DocumentState? ReadExisting(string collection, string key)
        {
            selectCollection.Value = collection;
            selectKey.Value = key;
            return ReadState(select, collection, key);
        }

        transaction.Commit();
        return bodies.Count;
    }

    // A connection of its own on the state file, for writes outside the checkpointer (SQLite
    // serializes them with its transactions), each commit durable.
    private static SqliteConnection OpenWriteConnection(string stateFile)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = stateFile, Mode = SqliteOpenMode.ReadWrite, Pooling = false, DefaultTimeout = 30 }.ToString());
        try
        {
            connection.Open();
            StateStore.Execute(connection, null, "PRAGMA synchronous=FULL;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The (collection, key) of every overlay entry, as of now.</summary>
    private HashSet<(string, string)> OverlayKeys()
    {
        var keys = new HashSet<(string, string)>();
        lock (_overlayLock)
        {
            foreach (KeyValuePair<string, SortedDictionary<string, OverlayEntry>> collection in _overlay)
            {
                foreach (string key in collection.Value.Keys)
                {
                    keys.Add((collection.Key, key));
                }
            }
        }

        return keys;
    }

    /// <summary>Collection and key of every document that may be visible (checkpointed rows with JSON, plus the overlay).</summary>
    public List<(string Collection, string Key)> ListVisibleKeys()
    {
        HashSet<(string, string)> keys = OverlayKeys();
        using (StateReadConnection reader = _rentReader())
        {
            using SqliteCommand select = reader.Connection.CreateCommand();
            select.CommandText = "SELECT collection, key FROM ce_documents WHERE json IS NOT NULL;";
            using SqliteDataReader rows = select.ExecuteReader();
            while (rows.Read())
            {
                keys.Add((rows.GetString(0), rows.GetString(1)));
            }
        }

        return [.. keys];
    }

    /// <summary>
    /// Deletes checkpointed tombstone rows (json NULL) whose last checkpoint is at or below
    /// <paramref name="throughLsn"/> and that have no overlay entry, on a connection of its own
    /// (SQLite serializes it with the checkpointer's transactions).
    /// </summary>
    public int PurgeTombstones(string stateFile, long throughLsn)
    {
        HashSet<(string, string)> pending = OverlayKeys();
        using SqliteConnection connection = OpenWriteConnection(stateFile);
        using SqliteTransaction transaction = connection.BeginTransaction();
        var victims = new List<(string Collection, string Key)>();
        using (SqliteCommand select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT collection, key FROM ce_documents WHERE json IS NULL AND lsn <= $lsn;";
            select.Parameters.AddWithValue("$lsn", throughLsn);
            using SqliteDataReader rows = select.ExecuteReader();
            while (rows.Read())
            {
                var id = (rows.GetString(0), rows.GetString(1));
                if (!pending.Contains(id))
                {
                    victims.Add(id);
                }
            }
        }

        using (SqliteCommand delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM ce_documents WHERE collection = $collection AND key = $key AND json IS NULL;";
            SqliteParameter collectionParameter = delete.Parameters.Add("$collection", SqliteType.Text);
            SqliteParameter keyParameter = delete.Parameters.Add("$key", SqliteType.Text);
            foreach ((string collection, string key) in victims)
            {
                collectionParameter.Value = collection;
                keyParameter.Value = key;
                delete.ExecuteNonQuery();
            }
        }

        transaction.Commit();
        return victims.Count;
    }

    private static DocumentState? ReadState(SqliteCommand select, string collection, string key)
    {
        using SqliteDataReader row = select.ExecuteReader();
        if (!row.Read())
        {
            return null;
        }

        byte[] blob = (byte[])row.GetValue(0);
        return DocumentState.Decode(blob, $"table ce_documents, collection '{collection}', key '{key}'");
    }

    private readonly record struct PreparedState(string Collection, string Key, DocumentState State, byte[] Encoded, string? Json);

    /// <summary>The state a document's staged ops make from nothing (decoded and checked now, in LSN order).</summary>
    private DocumentState StagedDelta(StagedChain chain)
    {
        var delta = new DocumentState();
        ReadOnlySpan<byte> bodies = _stagedBodies.WrittenSpan;
        for (int index = chain.Head; index >= 0; index = _stagedOps[index].Next)
        {
            StagedOp op = _stagedOps[index];
            delta.Apply(DocumentCodec.Decode(bodies.Slice(op.Offset, op.Length), op.Lsn), op.Timestamp);
        }

        return delta;
    }

    private void ClearStaged()
    {
        _staged.Clear();
        _stagedOps.Clear();
        _stagedBodies.ResetWrittenCount();
        if (_stagedBodies.Capacity > 16 << 20)
        {
            _stagedBodies = new ArrayBufferWriter<byte>(64 * 1024); // don't pin a huge arena after one large batch
        }
    }

    /// <summary>One staged op: its body in the arena and the next op of the same document (-1: none).</summary>
    private struct StagedOp
    {
        public long Lsn;
        public HlcTimestamp Timestamp;
        public int Offset;
        public int Length;
        public int Next;
    }

    /// <summary>First and last staged op of a document.</summary>
    private readonly record struct StagedChain(int Head, int Tail);

    private sealed class OverlayEntry
    {
        public DocumentState Delta { get; } = new();

        public long LastLsn { get; set; }
    }
}
