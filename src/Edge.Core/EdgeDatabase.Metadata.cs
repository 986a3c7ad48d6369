using Microsoft.Data.Sqlite;

namespace CortexEdge.Core;

/// <summary>
/// Local-only metadata: a small persisted key/value table (<c>ce_local_meta</c> in <c>state.db</c>)
/// for things that belong to this copy of the database and are never replicated — sync cursors,
/// the node name a database is bound to, a leader's node bindings. Writes do not stamp an op,
/// consume an origin sequence or touch the WAL; each <see cref="SetMetadata(IReadOnlyList{KeyValuePair{string, string}})"/>
/// call is one SQLite transaction with <c>synchronous=FULL</c>, so it is durable and all-or-nothing.
/// </summary>
/// <remarks>
/// Metadata names starting with <see cref="RetentionHoldPrefix"/> are persisted WAL retention holds
/// (<see cref="SetPersistentRetentionHold"/>): they are re-applied on open before the checkpointer
/// can trim anything, so records a sync cursor still needs survive restarts. Thread-safe.
/// </remarks>
public sealed partial class EdgeDatabase
{
    /// <summary>Prefix of metadata names that hold a persisted WAL retention hold (the value is the LSN).</summary>
    public const string RetentionHoldPrefix = "wal.hold.";

    /// <summary>Name of the WAL retention hold that keeps own ops not yet acknowledged by the sync leader.</summary>
    public const string SyncUploadHoldName = "sync-upload";

    private readonly Lock _metadataLock = new();
    private SqliteConnection? _metadataConnection; // guarded by _metadataLock

    /// <summary>The value stored under <paramref name="name"/>, or null when absent.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.StateCorrupt"/>: the table cannot be read.</exception>
    public string? GetMetadata(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_metadataLock)
        {
            SqliteConnection connection = MetadataConnection();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "SELECT value FROM ce_local_meta WHERE name = $name;";
            command.Parameters.AddWithValue("$name", name);
            return RunMetadata(() => command.ExecuteScalar() as string);
        }
    }

    /// <summary>Every (name, value) whose name starts with <paramref name="prefix"/>, in ordinal name order.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.StateCorrupt"/>: the table cannot be read.</exception>
    public IReadOnlyList<KeyValuePair<string, string>> GetMetadataByPrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        lock (_metadataLock)
        {
            SqliteConnection connection = MetadataConnection();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "SELECT name, value FROM ce_local_meta WHERE substr(name, 1, length($prefix)) = $prefix ORDER BY name;";
            command.Parameters.AddWithValue("$prefix", prefix);
            return RunMetadata(() =>
            {
                var result = new List<KeyValuePair<string, string>>();
                using SqliteDataReader rows = command.ExecuteReader();
                while (rows.Read())
                {
                    result.Add(new KeyValuePair<string, string>(rows.GetString(0), rows.GetString(1)));
                }

                return result;
            });
        }
    }

    /// <summary>Stores one value durably (replacing any previous one).</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.StateCorrupt"/>: the write failed; nothing was stored.</exception>
    public void SetMetadata(string name, string value) => SetMetadata([new KeyValuePair<string, string>(name, value)]);

    /// <summary>Stores several values in one durable transaction: all or none.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.StateCorrupt"/>: the write failed; nothing was stored.</exception>
    public void SetMetadata(IReadOnlyList<KeyValuePair<string, string>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (KeyValuePair<string, string> entry in entries)
        {
            ArgumentException.ThrowIfNullOrEmpty(entry.Key);
            ArgumentNullException.ThrowIfNull(entry.Value);
        }

        ThrowIfDisposed();
        lock (_metadataLock)
        {
            SqliteConnection connection = MetadataConnection();
            RunMetadata(() =>
            {
                using SqliteTransaction transaction = connection.BeginTransaction();
                using SqliteCommand command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO ce_local_meta(name, value) VALUES($name, $value) ON CONFLICT(name) DO UPDATE SET value = excluded.value;";
                SqliteParameter name = command.Parameters.Add("$name", SqliteType.Text);
                SqliteParameter value = command.Parameters.Add("$value", SqliteType.Text);
                foreach (KeyValuePair<string, string> entry in entries)
                {
                    name.Value = entry.Key;
                    value.Value = entry.Value;
                    command.ExecuteNonQuery();
                }

                transaction.Commit();
                return 0;
            });
        }
    }

    /// <summary>
    /// Sets a WAL retention hold (<see cref="Wal.WriteAheadLog.SetRetentionHold"/>) and persists it, so
    /// it is re-applied when the database is opened again, before anything can be trimmed.
    /// </summary>
    public void SetPersistentRetentionHold(string name, long keepFromLsn)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keepFromLsn);
        SetMetadata(RetentionHoldPrefix + name, keepFromLsn.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _wal.SetRetentionHold(name, keepFromLsn);
    }

    // Called from the constructor before the checkpointer starts: nothing held can have been trimmed since the last run.
    private void ApplyPersistedRetentionHolds()
    {
        if (Options.RetainUnsyncedOps && GetMetadata(RetentionHoldPrefix + SyncUploadHoldName) is null)
        {
            SetMetadata(RetentionHoldPrefix + SyncUploadHoldName, Math.Max(1, _wal.FirstLsn).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (KeyValuePair<string, string> hold in GetMetadataByPrefix(RetentionHoldPrefix))
        {
            if (!long.TryParse(hold.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long lsn))
            {
                throw new EdgeCorruptionException(EdgeErrorCode.StateCorrupt, $"{Path.Combine(Directory, State.StateStore.FileName)} table ce_local_meta '{hold.Key}'",
                    $"retention hold '{hold.Key}' has the invalid LSN '{hold.Value}'");
            }

            _wal.SetRetentionHold(hold.Key[RetentionHoldPrefix.Length..], lsn);
        }
    }

    private void CloseMetadata()
    {
        lock (_metadataLock)
        {
            _metadataConnection?.Dispose();
            _metadataConnection = null;
        }
    }

    // Caller holds _metadataLock. A connection of its own: the store's write connection belongs to the checkpointer thread.
    private SqliteConnection MetadataConnection()
    {
        if (_metadataConnection is not null)
        {
            return _metadataConnection;
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(Directory, State.StateStore.FileName),
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();
            State.StateStore.Execute(connection, null, "PRAGMA synchronous=FULL; CREATE TABLE IF NOT EXISTS ce_local_meta(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;");
        }
        catch (SqliteException exception)
        {
            connection.Dispose();
            throw new EdgeException(EdgeErrorCode.StateCorrupt, $"Cannot open the local metadata table in {Path.Combine(Directory, State.StateStore.FileName)}: {exception.Message}", exception);
        }

        _metadataConnection = connection;
        return connection;
    }

    private T RunMetadata<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (SqliteException exception)
        {
            throw new EdgeException(EdgeErrorCode.StateCorrupt, $"Local metadata in {Path.Combine(Directory, State.StateStore.FileName)} failed: {exception.Message}", exception);
        }
    }
}
