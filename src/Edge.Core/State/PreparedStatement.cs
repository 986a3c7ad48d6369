using System.Diagnostics.CodeAnalysis;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace CortexEdge.Core.State;

/// <summary>
/// One SQLite statement prepared on a connection's raw handle, bound from spans: the checkpoint's
/// hot loop binds UTF-8 text and blobs without the boxing, string conversion and reader objects
/// of <see cref="SqliteCommand"/>. Runs inside whatever transaction the connection has open.
/// </summary>
/// <remarks>Not thread-safe; used by one thread for one batch, then disposed (finalized).</remarks>
internal sealed class PreparedStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private byte[] _textScratch = new byte[256];

    private PreparedStatement(sqlite3 db, sqlite3_stmt statement)
    {
        _db = db;
        _statement = statement;
    }

    /// <summary>Prepares <paramref name="sql"/> (one statement) on <paramref name="connection"/>.</summary>
    /// <exception cref="SqliteException">The SQL does not compile.</exception>
    public static PreparedStatement Prepare(SqliteConnection connection, string sql)
    {
        sqlite3 db = connection.Handle ?? throw new InvalidOperationException("the SQLite connection is not open");
        int rc = raw.sqlite3_prepare_v2(db, sql, out sqlite3_stmt statement);
        if (rc != raw.SQLITE_OK)
        {
            statement?.Dispose();
            ThrowError(db, rc, $"preparing '{sql}'");
        }

        return new PreparedStatement(db, statement);
    }

    /// <summary>Binds UTF-16 text (converted to UTF-8 in a reused buffer) to parameter <paramref name="index"/> (1-based).</summary>
    public void BindText(int index, string value)
    {
        int byteCount = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_textScratch.Length < byteCount)
        {
            _textScratch = new byte[Math.Max(byteCount, _textScratch.Length * 2)];
        }

        int written = Encoding.UTF8.GetBytes(value, _textScratch);
        BindUtf8Text(index, _textScratch.AsSpan(0, written));
    }

    /// <summary>Binds UTF-8 text (copied by SQLite) to parameter <paramref name="index"/> (1-based).</summary>
    public void BindUtf8Text(int index, ReadOnlySpan<byte> utf8) => Check(raw.sqlite3_bind_text(_statement, index, utf8), "binding text");

    /// <summary>Binds a blob (copied by SQLite) to parameter <paramref name="index"/> (1-based).</summary>
    public void BindBlob(int index, ReadOnlySpan<byte> value) => Check(raw.sqlite3_bind_blob(_statement, index, value), "binding a blob");

    /// <summary>Binds an integer to parameter <paramref name="index"/> (1-based).</summary>
    public void BindInt64(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value), "binding an integer");

    /// <summary>Binds NULL to parameter <paramref name="index"/> (1-based).</summary>
    public void BindNull(int index) => Check(raw.sqlite3_bind_null(_statement, index), "binding null");

    /// <summary>Steps once: true when a row is available (read it with the column accessors), false when done.</summary>
    /// <exception cref="SqliteException">The step failed.</exception>
    public bool Step()
    {
        int rc = raw.sqlite3_step(_statement);
        if (rc == raw.SQLITE_ROW)
        {
            return true;
        }

        if (rc != raw.SQLITE_DONE)
        {
            ThrowError(_db, rc, "executing a checkpoint statement");
        }

        return false;
    }

    /// <summary>Runs a statement that returns no rows, then resets it for the next bindings.</summary>
    public void Execute()
    {
        try
        {
            Step();
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>The blob in column <paramref name="index"/> (0-based) of the current row; valid until the next step or reset.</summary>
    public ReadOnlySpan<byte> ColumnBlob(int index) => raw.sqlite3_column_blob(_statement, index);

    /// <summary>Rows the last INSERT/UPDATE/DELETE on this connection changed.</summary>
    public int Changes => raw.sqlite3_changes(_db);

    /// <summary>Resets the statement so it can run again (bindings stay until rebound).</summary>
    public void Reset() => raw.sqlite3_reset(_statement);

    /// <summary>Finalizes the statement.</summary>
    public void Dispose() => _statement.Dispose();

    private void Check(int rc, string what)
    {
        if (rc != raw.SQLITE_OK)
        {
            ThrowError(_db, rc, what);
        }
    }

    [DoesNotReturn]
    private static void ThrowError(sqlite3 db, int rc, string what) =>
        throw new SqliteException($"SQLite error {rc} {what}: {raw.sqlite3_errmsg(db).utf8_to_string()}", rc);
}
