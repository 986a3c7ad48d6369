using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core.Vectors;

/// <summary>
/// Vector collections as a state module: <see cref="WalRecordKind.Vector"/> records, the SQLite
/// tables <c>ce_vector_collections</c> and <c>ce_vectors</c> (the source of truth: one row per id
/// with its float32 blob and HLC, or a tombstone), and one <see cref="VectorCollection"/> per
/// collection whose files under <c>vectors/</c> (float32 <c>.vec</c>, index <c>.idx</c>) are a
/// projection: saved at a clean close (<see cref="SaveIndexFiles"/>) and mapped at open, or rebuilt
/// from SQLite when missing, damaged or left open by a crash (the reason is in the statistics).
/// </summary>
/// <remarks>
/// <para>Conflicts: each id is a last-writer-wins register on the op's HLC (deletes leave a tombstone
/// with their HLC, so an older upsert arriving later through sync stays deleted). A collection's
/// dimension and metric are fixed by the first op that names it, in log order; a later op with
/// another shape (possible only from a remote replica) is skipped and counted in
/// <see cref="RejectedOperationCount"/>, identically in memory and in the checkpoint.</para>
/// <para>Threads: <see cref="Apply"/> runs under the database's write lock; checkpoint methods on the
/// checkpointer thread; reads on any thread. <see cref="VectorCollection"/> guards itself; the
/// collection map is guarded by a lock. The index reflects every applied op, so reads never need SQLite.</para>
/// </remarks>
internal sealed class VectorStateModule : IStateModule, IDisposable
{
    private const ulong SignBit = 0x8000_0000_0000_0000UL;

    private static readonly WalRecordKind[] s_kinds = [WalRecordKind.Vector];

    private readonly string _directory;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, CollectionState> _collections = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Collection, string Id), VectorOperation> _staged = [];
    private readonly Dictionary<(string Collection, string Id), HlcTimestamp> _stagedVersions = [];
    private readonly Dictionary<string, (int Dimension, VectorMetric Metric)> _stagedCollections = new(StringComparer.Ordinal);
    private long _rejectedOperationCount;

    internal VectorStateModule(string directory)
    {
        _directory = directory;
    }

    public string Name => "vectors";

    public IReadOnlyList<WalRecordKind> RecordKinds => s_kinds;

    /// <summary>Ops skipped because they named a collection with another dimension or metric.</summary>
    internal long RejectedOperationCount => Interlocked.Read(ref _rejectedOperationCount);

    public void CreateSchema(SqliteConnection connection, SqliteTransaction transaction) =>
        StateStore.Execute(connection, transaction,
            "CREATE TABLE IF NOT EXISTS ce_vector_collections(name TEXT PRIMARY KEY, dimension INTEGER NOT NULL, metric INTEGER NOT NULL) WITHOUT ROWID;" +
            "CREATE TABLE IF NOT EXISTS ce_vectors(collection TEXT NOT NULL, id TEXT NOT NULL, key TEXT, vector BLOB, " +
            "hlc_time INTEGER NOT NULL, hlc_replica INTEGER NOT NULL, lsn INTEGER NOT NULL, PRIMARY KEY(collection, id)) WITHOUT ROWID;");

    public void Load(SqliteConnection connection)
    {
        Directory.CreateDirectory(_directory);
        var rebuild = new List<CollectionState>();
        long stateLsn;
        using (SqliteCommand meta = connection.CreateCommand())
        {
            // The index files are trusted only with the state store they were closed with.
            meta.CommandText = "SELECT value FROM ce_meta WHERE name = 'checkpoint_lsn';";
            stateLsn = meta.ExecuteScalar() is long lsn ? lsn : -1;
        }

        using (SqliteCommand collections = connection.CreateCommand())
        {
            collections.CommandText = "SELECT name, dimension, metric FROM ce_vector_collections;";
            using SqliteDataReader rows = collections.ExecuteReader();
            while (rows.Read())
            {
                string name = rows.GetString(0);
                long dimension = rows.GetInt64(1);
                long metric = rows.GetInt64(2);
                if (dimension is < 1 or > VectorCollectionOptions.DimensionMax || !Enum.IsDefined((VectorMetric)metric))
                {
                    throw new EdgeCorruptionException(EdgeErrorCode.VectorRecordMalformed, $"table ce_vector_collections row '{name}'",
                        $"vector collection has dimension {dimension} and metric {metric}");
                }

                // The index's own files first: mapped, checksummed, no re-quantizing or re-training.
                CollectionState state = Add(name, (int)dimension, (VectorMetric)metric, stateLsn);
                state.Persisted = true;
                if (!state.Index.LoadedFromIndexFile)
                {
                    state.Index.TrainingSuspended = true;
                    rebuild.Add(state);
                }
            }
        }

        foreach (CollectionState state in rebuild)
        {
            Rebuild(connection, state);
            state.Index.TrainingSuspended = false;
        }
    }

    /// <summary>Loads one collection's rows from SQLite into its (empty) index.</summary>
    private static void Rebuild(SqliteConnection connection, CollectionState state)
    {
        string collection = state.Index.Name;
        using SqliteCommand vectors = connection.CreateCommand();
        vectors.CommandText = "SELECT id, key, vector, hlc_time, hlc_replica FROM ce_vectors WHERE collection = $collection;";
        vectors.Parameters.AddWithValue("$collection", collection);
        using SqliteDataReader rows = vectors.ExecuteReader();
        int dimension = state.Index.Dimension;
        float[] buffer = new float[dimension];
        while (rows.Read())
        {
            string id = rows.GetString(0);
            string location = $"table ce_vectors row ('{collection}', '{id}')";
            HlcTimestamp version = ReadVersion(rows, 3);
            if (rows.IsDBNull(1))
            {
                state.Tombstones[id] = version;
                continue;
            }

            byte[] blob = (byte[])rows.GetValue(2);
            if (blob.Length != dimension * sizeof(float))
            {
                throw new EdgeCorruptionException(EdgeErrorCode.VectorRecordMalformed, location, $"vector blob is {blob.Length} bytes; dimension {dimension} needs {dimension * sizeof(float)}");
            }

            FromBlob(blob, buffer);

            try
            {
                state.Index.Upsert(id, buffer, rows.GetString(1), version);
            }
            catch (EdgeException exception) when (exception.Code == EdgeErrorCode.VectorInvalid)
            {
                throw new EdgeCorruptionException(EdgeErrorCode.VectorRecordMalformed, location, exception.Message, exception);
            }
        }
    }

    /// <summary>
    /// Saves every changed collection's index file (<see cref="VectorCollection.SaveIndexFile"/>), so the
    /// next open maps it instead of rebuilding. Call only at a clean close, after the WAL is flushed:
    /// an index file must not describe writes the log could lose. A failed save is recorded in the
    /// collection's <see cref="VectorCollection.IndexFileProblem"/> and costs only a rebuild at the next open.
    /// </summary>
    /// <param name="stateLsn">The state store's checkpoint LSN now; the next <see cref="Load"/> uses the files only if it reads the same.</param>
    internal void SaveIndexFiles(long stateLsn)
    {
        CollectionState[] states;
        lock (_lock)
        {
            states = [.. _collections.Values];
        }

        foreach (CollectionState state in states)
        {
            try
            {
                if (state.Index.HasUnsavedChanges)
                {
                    state.Index.SaveIndexFile(IndexPath(state.Index.Name), state.Tombstones, stateLsn);
                }
                else
                {
                    state.Index.RecordCleanClose(stateLsn);
                }
            }
            catch (Exception exception) when (exception is EdgeException or IOException or UnauthorizedAccessException)
            {
                // Close must not fail over a projection: the float32 file stays open (or keeps its old
                // state LSN), so the next open rebuilds from SQLite.
                state.Index.IndexFileProblem = exception.Message;
            }
        }
    }

    /// <summary>
    /// Checks an op from another replica before it is logged: a malformed body is refused with a
    /// plain error and nothing is written (it would otherwise fail on every replay).
    /// </summary>
    public void ValidateRemote(in StateRecord record)
    {
        try
        {
            _ = VectorCodec.Decode(record.Body, $"remote op {record.Header}");
        }
        catch (EdgeCorruptionException exception)
        {
            // Bad input from the network, not damaged local data.
            throw new EdgeException(EdgeErrorCode.VectorRecordMalformed, exception.Message, exception);
        }
    }

    public void Apply(in StateRecord record)
    {
        VectorOperation operation = VectorCodec.Decode(record.Body, $"WAL LSN {record.Lsn}");
        HlcTimestamp version = record.Header.Timestamp;
        CollectionState? state = Resolve(operation);
        if (state is null)
        {
            return;
        }

        switch (operation.Kind)
        {
            case VectorOperationKind.Upsert:
                if (version > CurrentVersion(state, operation.Id))
                {
                    state.Tombstones.Remove(operation.Id);
                    state.Index.Upsert(operation.Id, operation.Vector, operation.DocumentKey!, version);
                }

                break;

            case VectorOperationKind.Delete:
                if (version > CurrentVersion(state, operation.Id))
                {
                    // Tombstones are saved in the index file too: a tombstone-only change must mark it stale.
                    state.Index.MarkChanged();
                    state.Index.Delete(operation.Id);
                    state.Tombstones[operation.Id] = version;
                }

                break;
        }
    }

    public void StageCheckpoint(in StateRecord record)
    {
        VectorOperation operation = VectorCodec.Decode(record.Body, $"WAL LSN {record.Lsn}");
        CollectionState? state;
        lock (_lock)
        {
            _collections.TryGetValue(operation.Collection, out state);
        }

        // Apply has seen every record the checkpointer stages, and shapes never change once set, so
        // the live map decides exactly as Apply did.
        if (state is null)
        {
            return;
        }

        if (!state.Persisted)
        {
            _stagedCollections[operation.Collection] = (state.Index.Dimension, state.Index.Metric);
        }

        if (operation.Kind == VectorOperationKind.CreateCollection || (operation.Kind == VectorOperationKind.Upsert && !state.Matches(operation)))
        {
            return;
        }

        var id = (operation.Collection, operation.Id);
        HlcTimestamp version = record.Header.Timestamp;
        if (!_stagedVersions.TryGetValue(id, out HlcTimestamp staged) || version > staged)
        {
            _staged[id] = operation;
            _stagedVersions[id] = version;
        }
    }

    public void WriteCheckpoint(SqliteConnection connection, SqliteTransaction transaction, long throughLsn)
    {
        if (_stagedCollections.Count > 0)
        {
            using SqliteCommand create = connection.CreateCommand();
            create.Transaction = transaction;
            create.CommandText = "INSERT OR IGNORE INTO ce_vector_collections(name, dimension, metric) VALUES($name, $dimension, $metric);";
            SqliteParameter name = create.Parameters.Add("$name", SqliteType.Text);
            SqliteParameter dimension = create.Parameters.Add("$dimension", SqliteType.Integer);
            SqliteParameter metric = create.Parameters.Add("$metric", SqliteType.Integer);
            foreach ((string collectionName, (int Dimension, VectorMetric Metric) shape) in _stagedCollections)
            {
                name.Value = collectionName;
                dimension.Value = shape.Dimension;
                metric.Value = (int)shape.Metric;
                create.ExecuteNonQuery();
            }
        }

        if (_staged.Count == 0)
        {
            return;
        }

        using SqliteCommand upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        // Last writer wins in SQLite too: a row changes only for a newer HLC (columns hold the HLC with
        // the sign bit flipped so signed comparison follows unsigned order).
        upsert.CommandText =
            "INSERT INTO ce_vectors(collection, id, key, vector, hlc_time, hlc_replica, lsn) VALUES($collection, $id, $key, $vector, $time, $replica, $lsn) " +
            "ON CONFLICT(collection, id) DO UPDATE SET key = excluded.key, vector = excluded.vector, hlc_time = excluded.hlc_time, hlc_replica = excluded.hlc_replica, lsn = excluded.lsn " +
            "WHERE excluded.hlc_time > ce_vectors.hlc_time OR (excluded.hlc_time = ce_vectors.hlc_time AND excluded.hlc_replica > ce_vectors.hlc_replica);";
        SqliteParameter collection = upsert.Parameters.Add("$collection", SqliteType.Text);
        SqliteParameter idParameter = upsert.Parameters.Add("$id", SqliteType.Text);
        SqliteParameter key = upsert.Parameters.Add("$key", SqliteType.Text);
        SqliteParameter vector = upsert.Parameters.Add("$vector", SqliteType.Blob);
        SqliteParameter time = upsert.Parameters.Add("$time", SqliteType.Integer);
        SqliteParameter replica = upsert.Parameters.Add("$replica", SqliteType.Integer);
        SqliteParameter lsn = upsert.Parameters.Add("$lsn", SqliteType.Integer);
        foreach (KeyValuePair<(string Collection, string Id), VectorOperation> staged in _staged)
        {
            VectorOperation operation = staged.Value;
            HlcTimestamp version = _stagedVersions[staged.Key];
            collection.Value = operation.Collection;
            idParameter.Value = operation.Id;
            key.Value = operation.Kind == VectorOperationKind.Upsert ? operation.DocumentKey : DBNull.Value;
            vector.Value = operation.Kind == VectorOperationKind.Upsert ? ToBlob(operation.Vector!) : DBNull.Value;
            time.Value = unchecked((long)(version.Time ^ SignBit));
            replica.Value = unchecked((long)(version.ReplicaId ^ SignBit));
            lsn.Value = throughLsn;
            upsert.ExecuteNonQuery();
        }
    }

    public void CompleteCheckpoint(long throughLsn)
    {
        lock (_lock)
        {
            foreach (string collectionName in _stagedCollections.Keys)
            {
                if (_collections.TryGetValue(collectionName, out CollectionState? state))
                {
                    state.Persisted = true;
                }
            }
        }

        ClearStaged();
    }

    public void AbortCheckpoint() => ClearStaged();

    /// <summary>The collection named <paramref name="name"/>, or null.</summary>
    internal VectorCollection? Find(string name)
    {
        lock (_lock)
        {
            return _collections.TryGetValue(name, out CollectionState? state) ? state.Index : null;
        }
    }

    /// <summary>Names of every collection, ordinal order.</summary>
    internal string[] Names()
    {
        lock (_lock)
        {
            string[] names = [.. _collections.Keys];
            Array.Sort(names, StringComparer.Ordinal);
            return names;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (CollectionState state in _collections.Values)
            {
                state.Index.Dispose();
            }

            _collections.Clear();
        }
    }

    private static HlcTimestamp CurrentVersion(CollectionState state, string id)
    {
        if (state.Index.TryGetVersion(id, out HlcTimestamp version))
        {
            return version;
        }

        return state.Tombstones.TryGetValue(id, out HlcTimestamp tombstone) ? tombstone : HlcTimestamp.Zero;
    }

    /// <summary>Exports every checkpointed collection, vector and tombstone as ops (vectors with their HLC); call after a checkpoint.</summary>
    public void ExportState(SqliteConnection connection, SqliteTransaction transaction, StateTransferSink sink)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        var metrics = new Dictionary<string, VectorMetric>(StringComparer.Ordinal);
        using (SqliteCommand collections = connection.CreateCommand())
        {
            collections.Transaction = transaction;
            collections.CommandText = "SELECT name, dimension, metric FROM ce_vector_collections ORDER BY name;";
            using SqliteDataReader rows = collections.ExecuteReader();
            while (rows.Read())
            {
                var metric = (VectorMetric)rows.GetInt64(2);
                metrics[rows.GetString(0)] = metric;
                buffer.ResetWrittenCount();
                VectorCodec.EncodeCreateCollection(buffer, rows.GetString(0), (int)rows.GetInt64(1), metric);
                sink(WalRecordKind.Vector, HlcTimestamp.Zero, buffer.WrittenSpan);
            }
        }

        using SqliteCommand vectors = connection.CreateCommand();
        vectors.Transaction = transaction;
        vectors.CommandText = "SELECT collection, id, key, vector, hlc_time, hlc_replica FROM ce_vectors ORDER BY collection, id;";
        using SqliteDataReader vectorRows = vectors.ExecuteReader();
        float[] values = [];
        while (vectorRows.Read())
        {
            string collection = vectorRows.GetString(0);
            string id = vectorRows.GetString(1);
            HlcTimestamp version = ReadVersion(vectorRows, 4);
            buffer.ResetWrittenCount();
            if (vectorRows.IsDBNull(2))
            {
                VectorCodec.EncodeDelete(buffer, collection, id);
            }
            else
            {
                byte[] blob = (byte[])vectorRows.GetValue(3);
                if (values.Length != blob.Length / sizeof(float))
                {
                    values = new float[blob.Length / sizeof(float)];
                }

                FromBlob(blob, values);

                VectorCodec.EncodeUpsert(buffer, collection, id, vectorRows.GetString(2), metrics.GetValueOrDefault(collection), values);
            }

            sink(WalRecordKind.Vector, version, buffer.WrittenSpan);
        }
    }

    private static byte[] ToBlob(float[] vector)
    {
        byte[] blob = new byte[vector.Length * sizeof(float)];
        for (int i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(blob.AsSpan(i * sizeof(float)), vector[i]);
        }

        return blob;
    }

    /// <summary>Fills <paramref name="into"/> from a little-endian float32 blob (<see cref="ToBlob"/>), one float per 4 bytes of <paramref name="into"/>'s length.</summary>
    private static void FromBlob(ReadOnlySpan<byte> blob, Span<float> into)
    {
        for (int i = 0; i < into.Length; i++)
        {
            into[i] = BinaryPrimitives.ReadSingleLittleEndian(blob[(i * sizeof(float))..]);
        }
    }

    /// <summary>The HLC stored in the columns hlc_time (at <paramref name="timeOrdinal"/>) and hlc_replica (the next), sign bit flipped.</summary>
    private static HlcTimestamp ReadVersion(SqliteDataReader r, int timeOrdinal) =>
        new(unchecked((ulong)r.GetInt64(timeOrdinal)) ^ SignBit, unchecked((ulong)r.GetInt64(timeOrdinal + 1)) ^ SignBit);

    /// <summary>The collection an op applies to, created by its first op; null when the op must be skipped.</summary>
    private CollectionState? Resolve(VectorOperation operation)
    {
        lock (_lock)
        {
            if (_collections.TryGetValue(operation.Collection, out CollectionState? state))
            {
                if (operation.Kind == VectorOperationKind.Delete || state.Matches(operation))
                {
                    return state;
                }

                Interlocked.Increment(ref _rejectedOperationCount);
                return null;
            }

            if (operation.Kind == VectorOperationKind.Delete)
            {
                return null; // nothing to delete; the collection's first op will fix its shape
            }

            CollectionState created = Add(operation.Collection, operation.Dimension, operation.Metric);
            if (!created.Matches(operation))
            {
                Interlocked.Increment(ref _rejectedOperationCount);
                return null;
            }

            return created;
        }
    }

    /// <param name="name">Collection name.</param>
    /// <param name="dimension">Fixed dimension.</param>
    /// <param name="metric">Fixed metric.</param>
    /// <param name="stateLsn">At load: the state store's checkpoint LSN, to try the index files; null to create empty.</param>
    private CollectionState Add(string name, int dimension, VectorMetric metric, long? stateLsn = null)
    {
        string vectorPath = FilePathBase(name) + ".vec";
        string indexPath = IndexPath(name);
        var options = new VectorCollectionOptions { Dimension = dimension, Metric = metric };
        VectorCollection? index = null;
        Dictionary<string, HlcTimestamp>? tombstones = null;
        EdgeCorruptionException? problem = null;
        if (stateLsn is { } lsn)
        {
            index = VectorCollection.TryOpen(name, vectorPath, indexPath, options, lsn, out tombstones, out problem);
        }

        if (index is null)
        {
            // Replaced by a rebuild from the state store; the stale index file must not outlive it.
            File.Delete(indexPath);
            index = VectorCollection.Create(name, vectorPath, options);
            index.IndexFileProblem = problem?.Message;
        }

        var state = new CollectionState(index, tombstones);

        lock (_lock)
        {
            _collections.Add(name, state);
        }

        return state;
    }

    private string FilePathBase(string name) =>
        Path.Combine(_directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 16)));

    private string IndexPath(string name) => FilePathBase(name) + VectorCollection.IndexFileExtension;

    private void ClearStaged()
    {
        _staged.Clear();
        _stagedVersions.Clear();
        _stagedCollections.Clear();
    }

    private sealed class CollectionState(VectorCollection index, Dictionary<string, HlcTimestamp>? tombstones = null)
    {
        internal VectorCollection Index { get; } = index;

        /// <summary>Deleted ids and the HLC of their delete (those read from the index file, handed over, when given).</summary>
        internal Dictionary<string, HlcTimestamp> Tombstones { get; } = tombstones ?? new(StringComparer.Ordinal);

        /// <summary>Whether ce_vector_collections holds the row (set after a checkpoint writes it, or on load).</summary>
        internal bool Persisted { get; set; }

        /// <summary>
        /// Whether the op fits this collection: same shape, and for an upsert a vector the index accepts
        /// (a remote replica could send a zero vector to a cosine collection). Pure, so Apply and the
        /// checkpoint decide alike.
        /// </summary>
        internal bool Matches(VectorOperation operation) =>
            operation.Dimension == Index.Dimension && operation.Metric == Index.Metric
            && (operation.Vector is null || Index.TryValidate(operation.Vector, out _));
    }
}
