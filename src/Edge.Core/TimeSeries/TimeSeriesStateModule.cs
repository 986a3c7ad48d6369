using System.Collections.Concurrent;
using CortexEdge.Core.State;
using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Time series as a state module: <see cref="WalRecordKind.TimeSeriesBatch"/> records (one per
/// appended batch, retention pass or series delete), closed chunks as one row each in
/// <c>ce_ts_chunks</c>, and the open head chunks in memory, rebuilt from the WAL on open.
/// </summary>
/// <remarks>
/// <para>Two replicas of the same deterministic <see cref="TimeSeriesStore"/>: the live one (writer
/// threads apply every record; readers query it under <see cref="_liveLock"/>) and the staged one
/// (the checkpointer applies records up to the checkpoint LSN and persists its changes). Because
/// both see the same operations in the same order from the same loaded state, chunk ids and
/// contents agree, so the live replica can drop a chunk's bytes once a checkpoint stored them and
/// read them back from SQLite by id.</para>
/// <para>Heads are not persisted (rewriting a growing head at every checkpoint would wear the
/// flash): the WAL keeps records from the oldest head's first LSN through a retention hold named
/// <see cref="RetentionHoldName"/>, and on open those records up to the checkpoint are replayed into
/// the heads only (<see cref="TimeSeriesStore.ReplayIntoHead"/>).</para>
/// </remarks>
internal sealed class TimeSeriesStateModule : IStateModule, ITimeSeriesChunkSource
{
    public const string RetentionHoldName = "timeseries";

    // One row per (series, origin) stream; origin is the replica id as a signed integer, NULL for
    // a row written before origins were kept.
    private const string CreateSeriesTableSql =
        "CREATE TABLE IF NOT EXISTS ce_ts_series(series_id INTEGER PRIMARY KEY, name TEXT NOT NULL, origin INTEGER, created_lsn INTEGER NOT NULL, " +
        "retention_floor INTEGER NOT NULL, closed_through INTEGER NOT NULL, UNIQUE(name, origin));";

    private const string SelectChunkSql = "SELECT chunk FROM ce_ts_chunks WHERE chunk_id = $chunk AND series_id = $series;";
    private static readonly TimeSpan ApplyWaitMax = TimeSpan.FromSeconds(30);
    private static readonly WalRecordKind[] s_kinds = [WalRecordKind.TimeSeriesBatch];

    [ThreadStatic]
    private static TimeSeriesAppendResult t_appendResult;

    [ThreadStatic]
    private static TimeSeriesRetentionResult t_retentionResult;

    [ThreadStatic]
    private static long t_deleteResult;

    private readonly Func<WriteAheadLog> _wal;
    private readonly Func<StateReadConnection> _rentReader;
    private readonly TimeSeriesOptions _options;
    private readonly object _liveLock = new();
    private readonly TimeSeriesStore _live; // guarded by _liveLock
    private TimeSeriesStore _staged; // checkpointer thread (and open)
    private long _appliedLsn; // guarded by _liveLock
    private readonly Queue<(long Lsn, TimeSeriesOperation Operation)> _appliedOperations = new(); // guarded by _liveLock
    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);
    private bool _stagedInvalid;
    private readonly Dictionary<long, ChunkHeader> _writtenHeaders = []; // checkpointer thread: chunks the current checkpoint writes

    public TimeSeriesStateModule(Func<WriteAheadLog> wal, Func<StateReadConnection> rentReader, TimeSeriesOptions options)
    {
        options.Validate();
        _wal = wal;
        _rentReader = rentReader;
        _options = options;
        _live = new TimeSeriesStore(options, this, recordChanges: false);
        _staged = new TimeSeriesStore(options, this);
    }

    public string Name => "timeseries";

    public IReadOnlyList<WalRecordKind> RecordKinds => s_kinds;

    /// <summary>Result of the last append applied on this thread (read right after the append).</summary>
    public static TimeSeriesAppendResult LastAppendResult => t_appendResult;

    /// <summary>Result of the last retention pass applied on this thread.</summary>
    public static TimeSeriesRetentionResult LastRetentionResult => t_retentionResult;

    /// <summary>Result of the last series delete applied on this thread (readings removed, -1 when absent).</summary>
    public static long LastDeleteResult => t_deleteResult;

    /// <summary>
    /// This database's replica id: the origin of series rows written before readings kept their
    /// origin. Set before <see cref="Load"/>.
    /// </summary>
    public ulong LocalReplicaId { get; set; }

    /// <summary>Records replayed into head chunks when the database opened.</summary>
    public long HeadReplayRecordCount { get; private set; }

    public void CreateSchema(SqliteConnection connection, SqliteTransaction transaction)
    {
        // Version 1 had one row per series name; rows are now per (series, origin). An old table is
        // rebuilt keeping its rows with no origin (LoadInto reads them as the local replica's).
        if (Scalar(connection, transaction, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ce_ts_series';") == 1
            && Scalar(connection, transaction, "SELECT count(*) FROM pragma_table_info('ce_ts_series') WHERE name = 'origin';") == 0)
        {
            StateStore.Execute(connection, transaction,
                "ALTER TABLE ce_ts_series RENAME TO ce_ts_series_v1;" + CreateSeriesTableSql +
                "INSERT INTO ce_ts_series(series_id, name, origin, created_lsn, retention_floor, closed_through) " +
                "SELECT series_id, name, NULL, created_lsn, retention_floor, closed_through FROM ce_ts_series_v1;" +
                "DROP TABLE ce_ts_series_v1;");
        }

        StateStore.Execute(connection, transaction,
            CreateSeriesTableSql +
            "CREATE TABLE IF NOT EXISTS ce_ts_chunks(chunk_id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, count INTEGER NOT NULL, chunk BLOB NOT NULL);" +
            "CREATE INDEX IF NOT EXISTS ce_ts_chunks_series ON ce_ts_chunks(series_id, first_ts);" +
            "CREATE TABLE IF NOT EXISTS ce_ts_meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;");
    }

    public void Load(SqliteConnection connection)
    {
        long headLsn = LoadInto(connection, [_live, _staged]);
        // Nothing may trim the records the heads need before the first checkpoint moves the hold.
        WriteAheadLog wal = _wal();
        if (headLsn > 0)
        {
            wal.SetRetentionHold(RetentionHoldName, headLsn);
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
            _ = TimeSeriesBatchCodec.Decode(record.Body, $"remote op {record.Header}");
        }
        catch (EdgeCorruptionException exception)
        {
            // Bad input from the network, not damaged local data.
            throw new EdgeException(EdgeErrorCode.TimeSeriesBatchMalformed, exception.Message, exception);
        }
    }

    public void Apply(in StateRecord record)
    {
        TimeSeriesOperation operation = TimeSeriesBatchCodec.Decode(record.Body, $"WAL LSN {record.Lsn}", _names);
        lock (_liveLock)
        {
            try
            {
                ApplyTo(_live, operation, record.Lsn, record.Header.OriginReplicaId);
                // Handed to the checkpointer so it does not decode the record again (bounded by the checkpoint lag).
                _appliedOperations.Enqueue((record.Lsn, operation));
            }
            finally
            {
                // Even a failed apply must not stall the checkpointer; the database faults on the exception.
                _appliedLsn = record.Lsn;
                Monitor.PulseAll(_liveLock);
            }
        }
    }

    public void StageCheckpoint(in StateRecord record)
    {
        TimeSeriesOperation? operation = WaitUntilApplied(record.Lsn);
        if (_stagedInvalid)
        {
            RebuildStaged();
        }

        // After an aborted checkpoint the records come again and are no longer queued: decode them.
        operation ??= TimeSeriesBatchCodec.Decode(record.Body, $"WAL LSN {record.Lsn}", _names);
        ApplyTo(_staged, operation, record.Lsn, record.Header.OriginReplicaId);
    }

    public void WriteCheckpoint(SqliteConnection connection, SqliteTransaction transaction, long throughLsn)
    {
        if (_stagedInvalid)
        {
            // Records since the last commit were not restaged (none of ours in this batch): rebuild
            // so the heads and counters below are right.
            RebuildStaged();
        }

        TimeSeriesChanges changes = _staged.TakeChanges();
        _writtenHeaders.Clear();
        foreach ((_, long chunkId, ChunkHeader header, _) in changes.Chunks)
        {
            _writtenHeaders[chunkId] = header;
        }

        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        foreach (long seriesId in changes.DeletedSeries)
        {
            Execute(command, "DELETE FROM ce_ts_series WHERE series_id = $id;", ("$id", seriesId));
        }

        foreach (long chunkId in changes.DeletedChunks)
        {
            Execute(command, "DELETE FROM ce_ts_chunks WHERE chunk_id = $id;", ("$id", chunkId));
        }

        foreach ((long seriesId, string name, long createdLsn, long floor, long closedThrough, ulong origin, bool legacy) in changes.Series)
        {
            command.Parameters.Clear();
            command.CommandText = "INSERT INTO ce_ts_series(series_id, name, origin, created_lsn, retention_floor, closed_through) VALUES($id, $name, $origin, $created, $floor, $closed) " +
                "ON CONFLICT(series_id) DO UPDATE SET retention_floor = excluded.retention_floor, closed_through = excluded.closed_through;";
            command.Parameters.AddWithValue("$id", seriesId);
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$origin", legacy ? DBNull.Value : unchecked((long)origin));
            command.Parameters.AddWithValue("$created", createdLsn);
            command.Parameters.AddWithValue("$floor", floor);
            command.Parameters.AddWithValue("$closed", closedThrough);
            command.ExecuteNonQuery();
        }

        foreach ((long seriesId, long chunkId, ChunkHeader header, byte[] bytes) in changes.Chunks)
        {
            command.Parameters.Clear();
            command.CommandText = "INSERT OR REPLACE INTO ce_ts_chunks(chunk_id, series_id, first_ts, last_ts, count, chunk) VALUES($chunk, $series, $first, $last, $count, $bytes);";
            command.Parameters.AddWithValue("$chunk", chunkId);
            command.Parameters.AddWithValue("$series", seriesId);
            command.Parameters.AddWithValue("$first", header.FirstTimestamp);
            command.Parameters.AddWithValue("$last", header.LastTimestamp);
            command.Parameters.AddWithValue("$count", header.Count);
            command.Parameters.Add("$bytes", SqliteType.Blob).Value = bytes;
            command.ExecuteNonQuery();
        }

        SetMeta(command, "checkpoint_lsn", throughLsn);
        SetMeta(command, "head_lsn", _staged.OldestHeadLsn ?? 0);
        SetMeta(command, "next_series_id", _staged.NextSeriesId);
        SetMeta(command, "next_chunk_id", _staged.NextChunkId);
    }

    public void CompleteCheckpoint(long throughLsn)
    {
        _staged.ReleaseCheckpointed(throughLsn);
        lock (_liveLock)
        {
            _live.ReleaseCheckpointed(throughLsn, _writtenHeaders);
        }

        // Runs before the WAL learns the checkpoint LSN, so segments the heads need are never freed.
        _wal().SetRetentionHold(RetentionHoldName, _staged.OldestHeadLsn ?? throughLsn + 1);
        _writtenHeaders.Clear();
    }

    public void AbortCheckpoint()
    {
        _stagedInvalid = true;
        _writtenHeaders.Clear();
    }

    /// <summary>Runs a query against the live replica under its lock.</summary>
    public T Read<T>(Func<TimeSeriesStore, T> query)
    {
        lock (_liveLock)
        {
            return query(_live);
        }
    }

    byte[] ITimeSeriesChunkSource.LoadChunk(long seriesId, long chunkId)
    {
        using StateReadConnection reader = _rentReader();
        SqliteCommand select = reader.Command(SelectChunkSql, "$chunk", "$series");
        select.Parameters[0].Value = chunkId;
        select.Parameters[1].Value = seriesId;
        using SqliteDataReader row = select.ExecuteReader();
        if (!row.Read())
        {
            throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, $"table ce_ts_chunks chunk {chunkId} series {seriesId}", "the chunk row is missing");
        }

        return (byte[])row.GetValue(0);
    }

    private static void ApplyTo(TimeSeriesStore store, TimeSeriesOperation operation, long lsn, ulong origin)
    {
        switch (operation.Kind)
        {
            case TimeSeriesOperationKind.Append:
                TimeSeriesAppendResult total = default;
                foreach ((string series, TimeSeriesReading[] readings) in operation.Groups)
                {
                    total += store.Append(series, readings, lsn, origin);
                }

                t_appendResult = total;
                break;
            case TimeSeriesOperationKind.DropBefore:
                t_retentionResult = store.DropBefore(operation.Series, operation.Cutoff, lsn);
                break;
            case TimeSeriesOperationKind.DeleteSeries:
                t_deleteResult = store.DeleteSeries(operation.Series);
                break;
        }
    }

    /// <summary>Loads persisted series and chunk index into each store and rebuilds their heads from the WAL; returns the head LSN.</summary>
    private long LoadInto(SqliteConnection connection, TimeSeriesStore[] stores)
    {
        var names = new Dictionary<long, string>();
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.CommandText = "SELECT series_id, name, created_lsn, retention_floor, closed_through, origin FROM ce_ts_series;";
            using SqliteDataReader rows = command.ExecuteReader();
            while (rows.Read())
            {
                long seriesId = rows.GetInt64(0);
                string name = rows.GetString(1);
                bool legacy = rows.IsDBNull(5);
                ulong origin = legacy ? LocalReplicaId : unchecked((ulong)rows.GetInt64(5));
                names.Add(seriesId, name);
                foreach (TimeSeriesStore store in stores)
                {
                    store.LoadSeries(seriesId, name, rows.GetInt64(2), rows.GetInt64(3), rows.GetInt64(4), origin, legacy);
                }
            }
        }

        using (SqliteCommand command = connection.CreateCommand())
        {
            // Only the header bytes: the payloads stay on disk until a query needs them.
            command.CommandText = $"SELECT chunk_id, series_id, substr(chunk, 1, {ChunkHeader.Size}), length(chunk) FROM ce_ts_chunks;";
            using SqliteDataReader rows = command.ExecuteReader();
            while (rows.Read())
            {
                long chunkId = rows.GetInt64(0);
                long seriesId = rows.GetInt64(1);
                string location = $"table ce_ts_chunks chunk {chunkId}";
                if (!names.TryGetValue(seriesId, out string? name))
                {
                    throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, location, $"the chunk belongs to series {seriesId}, which has no row");
                }

                ChunkHeader header = ChunkHeader.ReadFields((byte[])rows.GetValue(2), rows.GetInt32(3), location);
                if (header.SeriesId != seriesId)
                {
                    throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, location, $"the chunk header names series {header.SeriesId}, the row series {seriesId}");
                }

                foreach (TimeSeriesStore store in stores)
                {
                    store.LoadChunk(name, chunkId, header, null);
                }
            }
        }

        long checkpointLsn = GetMeta(connection, "checkpoint_lsn");
        long headLsn = GetMeta(connection, "head_lsn");
        foreach (TimeSeriesStore store in stores)
        {
            store.CompleteLoad(GetMeta(connection, "next_series_id"), GetMeta(connection, "next_chunk_id"));
        }

        if (headLsn > 0 && headLsn <= checkpointLsn)
        {
            using WalReader reader = _wal().OpenReader(headLsn);
            while (reader.TryRead(out WalRecord record) && record.Lsn <= checkpointLsn)
            {
                if (record.Kind != WalRecordKind.TimeSeriesBatch)
                {
                    continue;
                }

                StateRecord stateRecord = EdgeDatabase.ToStateRecord(record.Lsn, record.Kind, record.Payload);
                TimeSeriesOperation operation = TimeSeriesBatchCodec.Decode(stateRecord.Body, $"WAL LSN {record.Lsn}", _names);
                if (operation.Kind != TimeSeriesOperationKind.Append)
                {
                    continue;
                }

                HeadReplayRecordCount++;
                foreach ((string series, TimeSeriesReading[] readings) in operation.Groups)
                {
                    foreach (TimeSeriesStore store in stores)
                    {
                        store.ReplayIntoHead(series, readings, record.Lsn, stateRecord.Header.OriginReplicaId);
                    }
                }
            }
        }

        return headLsn;
    }

    private void RebuildStaged()
    {
        _staged.Dispose();
        _staged = new TimeSeriesStore(_options, this);
        using StateReadConnection reader = _rentReader();
        LoadInto(reader.Connection, [_staged]);
        _stagedInvalid = false;
    }

    /// <summary>Waits until the live replica applied <paramref name="lsn"/>; returns its decoded operation when still queued.</summary>
    private TimeSeriesOperation? WaitUntilApplied(long lsn)
    {
        lock (_liveLock)
        {
            // The writer appends to the WAL, then applies; the checkpointer can read the record in
            // between. Staging it first could commit a chunk version the live replica has not
            // reached, and the live replica may then read that version back as its own.
            long deadline = Environment.TickCount64 + (long)ApplyWaitMax.TotalMilliseconds;
            while (_appliedLsn < lsn)
            {
                long remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                {
                    throw new InvalidOperationException($"time-series record at LSN {lsn} was not applied within {ApplyWaitMax.TotalSeconds} s");
                }

                Monitor.Wait(_liveLock, TimeSpan.FromMilliseconds(remaining));
            }

            while (_appliedOperations.TryPeek(out (long Lsn, TimeSeriesOperation Operation) queued) && queued.Lsn <= lsn)
            {
                _appliedOperations.Dequeue();
                if (queued.Lsn == lsn)
                {
                    return queued.Operation;
                }
            }

            return null;
        }
    }

    private static long Scalar(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar() is long value ? value : 0;
    }

    private static long GetMeta(SqliteConnection connection, string name)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM ce_ts_meta WHERE name = $name;";
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteScalar() is long value ? value : 0;
    }

    private static void SetMeta(SqliteCommand command, string name, long value)
    {
        command.Parameters.Clear();
        command.CommandText = "INSERT INTO ce_ts_meta(name, value) VALUES($name, $value) ON CONFLICT(name) DO UPDATE SET value = excluded.value;";
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$value", value);
        command.ExecuteNonQuery();
    }

    private static void Execute(SqliteCommand command, string sql, (string Name, long Value) parameter)
    {
        command.Parameters.Clear();
        command.CommandText = sql;
        command.Parameters.AddWithValue(parameter.Name, parameter.Value);
        command.ExecuteNonQuery();
    }
}
