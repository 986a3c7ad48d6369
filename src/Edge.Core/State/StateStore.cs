using System.Collections.Concurrent;
using CortexEdge.Core.Clocks;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core.State;

/// <summary>
/// The SQLite side of the database: the file <see cref="FileName"/> in WAL journal mode, the engine's
/// meta table (replica id, checkpoint LSN, origin sequence, clock), one write connection owned by the
/// checkpointer (synchronous=FULL, so a committed checkpoint is durable before WAL segments are
/// freed), and a pool of read connections (readers never block the writer in WAL journal mode).
/// </summary>
internal sealed class StateStore : IDisposable
{
    public const string FileName = "state.db";
    public const long FormatVersion = 1;

    private readonly string _connectionString;
    private readonly ConcurrentBag<StateReadConnection> _readers = [];
    private readonly SqliteConnection _writeConnection;
    private int _disposed;

    private StateStore(string path, SqliteConnection writeConnection, string connectionString)
    {
        FilePath = path;
        _writeConnection = writeConnection;
        _connectionString = connectionString;
    }

    public string FilePath { get; }

    /// <summary>The connection the checkpointer writes with; use only on the checkpointer's thread (or before it starts).</summary>
    public SqliteConnection WriteConnection => _writeConnection;

    public bool Created { get; private set; }

    public ulong ReplicaId { get; private set; }

    public long CheckpointLsn { get; private set; }

    public ulong OriginSequence { get; private set; }

    public ulong ClockTime { get; private set; }

    /// <summary>Opens or creates the store and every module's schema, and loads or creates the identity.</summary>
    public static StateStore Open(string directory, IReadOnlyList<IStateModule> modules)
    {
        string path = Path.Combine(directory, FileName);
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        var connection = new SqliteConnection(connectionString);
        var store = new StateStore(path, connection, connectionString);
        try
        {
            connection.Open();
            // SQLite's default 4 KiB pages: 2 KiB pages would write less per checkpoint, but a
            // WITHOUT ROWID row then spills to an overflow page past ~488 bytes (a document of a
            // few fields), past ~1000 bytes with 4 KiB.
            Execute(connection, null, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
            using (SqliteTransaction transaction = connection.BeginTransaction())
            {
                Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS ce_meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;");
                Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS ce_versions(origin INTEGER PRIMARY KEY, sequence INTEGER NOT NULL);");
                foreach (IStateModule module in modules)
                {
                    module.CreateSchema(connection, transaction);
                }

                store.LoadMeta(connection, transaction);
                transaction.Commit();
            }
        }
        catch (SqliteException exception)
        {
            store.Dispose();
            throw new EdgeException(EdgeErrorCode.StateCorrupt, $"Cannot open the state store {path}: {exception.Message}", exception);
        }
        catch
        {
            store.Dispose();
            throw;
        }

        return store;
    }

    /// <summary>Stores the checkpoint position and the identity counters in <paramref name="transaction"/>.</summary>
    public void WriteCheckpointMeta(SqliteTransaction transaction, long checkpointLsn, ulong originSequence, ulong clockTime)
    {
        SetMeta(_writeConnection, transaction, "checkpoint_lsn", checkpointLsn);
        SetMeta(_writeConnection, transaction, "origin_sequence", unchecked((long)originSequence));
        SetMeta(_writeConnection, transaction, "clock_time", unchecked((long)clockTime));
        CheckpointLsn = checkpointLsn;
    }

    /// <summary>Stores the version vector of everything checkpointed (origin replica -> highest origin sequence).</summary>
    public void WriteVersions(SqliteTransaction transaction, VersionVector versions)
    {
        using SqliteCommand command = _writeConnection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO ce_versions(origin, sequence) VALUES($origin, $sequence) ON CONFLICT(origin) DO UPDATE SET sequence = excluded.sequence;";
        SqliteParameter origin = command.Parameters.Add("$origin", SqliteType.Integer);
        SqliteParameter sequence = command.Parameters.Add("$sequence", SqliteType.Integer);
        foreach (KeyValuePair<ulong, ulong> entry in versions.Entries)
        {
            origin.Value = unchecked((long)entry.Key);
            sequence.Value = unchecked((long)entry.Value);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>The checkpointed version vector.</summary>
    public VersionVector ReadVersions()
    {
        var versions = new VersionVector();
        using SqliteCommand command = _writeConnection.CreateCommand();
        command.CommandText = "SELECT origin, sequence FROM ce_versions;";
        using SqliteDataReader rows = command.ExecuteReader();
        while (rows.Read())
        {
            versions.AdvanceTo(unchecked((ulong)rows.GetInt64(0)), unchecked((ulong)rows.GetInt64(1)));
        }

        return versions;
    }

    /// <summary>Rents a read connection (pooled); dispose it to return it.</summary>
    public StateReadConnection RentReader()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_readers.TryTake(out StateReadConnection? reader))
        {
            return reader;
        }

        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, null, "PRAGMA query_only=1;");
        return new StateReadConnection(this, connection);
    }

    internal void Return(StateReadConnection reader)
    {
        if (Volatile.Read(ref _disposed) != 0 || _readers.Count >= 16)
        {
            reader.Close();
            return;
        }

        _readers.Add(reader);
    }

    /// <summary>
    /// Copies SQLite's own log into the database file and empties it. Run once after a database is
    /// created, so the schema pages land in the file as part of creating it instead of being copied
    /// by the first checkpoint that happens to follow (a one-time cost, not one of the readings').
    /// </summary>
    public void TruncateSqliteLog() => Execute(_writeConnection, null, "PRAGMA wal_checkpoint(TRUNCATE);");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        while (_readers.TryTake(out StateReadConnection? reader))
        {
            reader.Close();
        }

        _writeConnection.Dispose();
    }

    public static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void LoadMeta(SqliteConnection connection, SqliteTransaction transaction)
    {
        long? version = GetMeta(connection, transaction, "format_version");
        if (version is null)
        {
            Created = true;
            ReplicaId = NewReplicaId();
            SetMeta(connection, transaction, "format_version", FormatVersion);
            SetMeta(connection, transaction, "replica_id", unchecked((long)ReplicaId));
            SetMeta(connection, transaction, "checkpoint_lsn", 0);
            SetMeta(connection, transaction, "origin_sequence", 0);
            SetMeta(connection, transaction, "clock_time", 0);
            return;
        }

        if (version != FormatVersion)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.StateCorrupt, $"{FilePath} table ce_meta", $"Unknown state format version {version} (this build reads {FormatVersion})");
        }

        ReplicaId = unchecked((ulong)RequireMeta(connection, transaction, "replica_id"));
        CheckpointLsn = RequireMeta(connection, transaction, "checkpoint_lsn");
        OriginSequence = unchecked((ulong)RequireMeta(connection, transaction, "origin_sequence"));
        ClockTime = unchecked((ulong)RequireMeta(connection, transaction, "clock_time"));
        if (CheckpointLsn < 0)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.StateCorrupt, $"{FilePath} table ce_meta", $"Negative checkpoint LSN {CheckpointLsn}");
        }
    }

    internal static ulong NewReplicaId()
    {
        // Guid.NewGuid draws from the OS's secure generator without loading OpenSSL (which
        // RandomNumberGenerator does on Linux: megabytes of resident memory for eight bytes).
        Span<byte> bytes = stackalloc byte[16];
        ulong id;
        do
        {
            _ = Guid.NewGuid().TryWriteBytes(bytes);
            id = BitConverter.ToUInt64(bytes) ^ BitConverter.ToUInt64(bytes[8..]);
        }
        while (id == 0); // 0 means "no replica" in encodings
        return id;
    }

    private long RequireMeta(SqliteConnection connection, SqliteTransaction transaction, string name) =>
        GetMeta(connection, transaction, name)
        ?? throw new EdgeCorruptionException(EdgeErrorCode.StateCorrupt, $"{FilePath} table ce_meta", $"Missing meta value '{name}'");

    private static long? GetMeta(SqliteConnection connection, SqliteTransaction transaction, string name)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT value FROM ce_meta WHERE name = $name;";
        command.Parameters.AddWithValue("$name", name);
        object? value = command.ExecuteScalar();
        return value is long number ? number : null;
    }

    private static void SetMeta(SqliteConnection connection, SqliteTransaction transaction, string name, long value)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO ce_meta(name, value) VALUES($name, $value) ON CONFLICT(name) DO UPDATE SET value = excluded.value;";
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$value", value);
        command.ExecuteNonQuery();
    }
}

/// <summary>
/// A pooled read-only SQLite connection with a cache of prepared commands. Rent with
/// <c>StateStore.RentReader</c>, dispose to return. Not thread-safe: one user at a time.
/// </summary>
internal sealed class StateReadConnection : IDisposable
{
    private readonly StateStore _owner;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    internal StateReadConnection(StateStore owner, SqliteConnection connection)
    {
        _owner = owner;
        Connection = connection;
    }

    public SqliteConnection Connection { get; }

    /// <summary>A prepared command for <paramref name="sql"/>, reused across rentals; parameters keep their last values.</summary>
    public SqliteCommand Command(string sql, params string[] parameterNames)
    {
        if (!_commands.TryGetValue(sql, out SqliteCommand? command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            foreach (string name in parameterNames)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            command.Prepare();
            _commands.Add(sql, command);
        }

        return command;
    }

    public void Dispose() => _owner.Return(this);

    internal void Close()
    {
        foreach (SqliteCommand command in _commands.Values)
        {
            command.Dispose();
        }

        Connection.Dispose();
    }
}
