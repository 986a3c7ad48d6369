using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core.State;

/// <summary>
/// A kind of state kept by <see cref="EdgeDatabase"/> (documents, time series, vectors, ...): it owns
/// some WAL record kinds, an in-memory overlay of ops not yet checkpointed, and SQLite tables.
/// </summary>
/// <remarks>
/// <para><b>How a module plugs in.</b> Implement this interface in your concept's folder (e.g.
/// <c>TimeSeries/TimeSeriesStateModule.cs</c>), claim record kinds from your range in
/// <see cref="WalRecordKind"/>, and add ONE line creating your module to
/// <c>EdgeDatabase.CreateBuiltInModules</c> (code outside Edge.Core passes a factory through
/// <see cref="EdgeDatabaseOptions.AdditionalModules"/> instead). To write an op from your public API
/// (in your own partial file, e.g. <c>EdgeDatabase.TimeSeries.cs</c>): take
/// <c>EdgeDatabase.RentEncodeBuffer()</c> (it reserves <see cref="OperationHeader.EncodedBytes"/> at the
/// front), append your body to it, and return <c>AppendEncoded(kind, buffer, cancellationToken)</c>:
/// it stamps the <see cref="OperationHeader"/> (origin sequence, HLC), appends ONE WAL record, calls
/// your <see cref="Apply"/> under the write lock (in LSN order), and completes once the op is
/// acknowledged in the durability mode. Read SQLite through pooled read connections: pass
/// <c>RentStateReader</c> to your module's constructor (as the documents module does) and look at
/// your overlay first.</para>
/// <para><b>Lifecycle.</b> On open: <see cref="CreateSchema"/> (idempotent DDL), <see cref="Load"/>,
/// then <see cref="Apply"/> for every record after the checkpoint LSN (recovery replay). While open:
/// <see cref="Apply"/> per write. The background checkpointer, on its own thread, re-reads records
/// from the WAL and per batch calls <see cref="StageCheckpoint"/> for each of your records,
/// <see cref="WriteCheckpoint"/> inside the SQLite transaction that also stores the checkpoint LSN,
/// and after the commit is durable <see cref="CompleteCheckpoint"/> (drop overlay entries up to that
/// LSN) — or <see cref="AbortCheckpoint"/> if the transaction failed.</para>
/// <para><b>Threads.</b> <see cref="Apply"/> runs on writer threads (serialized by the write lock),
/// the checkpoint methods on the checkpointer thread, and your reads on any thread: guard the overlay.
/// Readers must look at the overlay BEFORE SQLite (the checkpointer commits to SQLite before it
/// drops overlay entries), so no acknowledged write is ever invisible. Replaying the same records
/// into SQLite state and into the overlay must give the same result (recovery equivalence).</para>
/// <para><b>Errors.</b> A body that fails to decode is damaged persisted data: throw
/// <see cref="EdgeCorruptionException"/> naming the LSN.</para>
/// </remarks>
public interface IStateModule
{
    /// <summary>Short name for logs and stats (e.g. "documents").</summary>
    string Name { get; }

    /// <summary>The WAL record kinds this module owns; no two modules share a kind.</summary>
    IReadOnlyList<WalRecordKind> RecordKinds { get; }

    /// <summary>Creates the module's tables and indexes if absent (CREATE ... IF NOT EXISTS).</summary>
    void CreateSchema(SqliteConnection connection, SqliteTransaction transaction);

    /// <summary>Called once after the schema exists and before replay, with a read connection.</summary>
    void Load(SqliteConnection connection);

    /// <summary>
    /// Checks an op that arrived from another replica BEFORE it is appended to the WAL (a bad body
    /// must be refused, never persisted). Throw <see cref="EdgeException"/> naming what is wrong. The
    /// default accepts everything; override it when your body can be malformed.
    /// </summary>
    /// <param name="record">The op (its <see cref="StateRecord.Lsn"/> is 0: not yet in the log).</param>
    void ValidateRemote(in StateRecord record)
    {
    }

    /// <summary>Applies an op to the in-memory overlay (live writes and recovery replay, in LSN order).</summary>
    void Apply(in StateRecord record);

    /// <summary>Takes an op into the checkpoint batch being built (checkpointer thread, LSN order).</summary>
    void StageCheckpoint(in StateRecord record);

    /// <summary>Writes the staged batch to SQLite inside <paramref name="transaction"/>; state through <paramref name="throughLsn"/>.</summary>
    void WriteCheckpoint(SqliteConnection connection, SqliteTransaction transaction, long throughLsn);

    /// <summary>The checkpoint through <paramref name="throughLsn"/> is durable in SQLite: release overlay entries last changed at or before it.</summary>
    void CompleteCheckpoint(long throughLsn);

    /// <summary>The checkpoint transaction failed: discard the staged batch (it will be staged again).</summary>
    void AbortCheckpoint();
}
