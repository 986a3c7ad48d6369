using CortexEdge.Core.Wal;
using Microsoft.Data.Sqlite;

namespace CortexEdge.Core.State;

/// <summary>
/// Owns <see cref="WalRecordKind.WithheldOp"/>: a remote op's place in its origin's sequence whose
/// content never left the origin. Applying it only advances the version vector (done by the
/// database for every op); it has no state, no tables and no checkpoint work.
/// </summary>
internal sealed class WithheldOpModule : IStateModule
{
    private static readonly WalRecordKind[] Kinds = [WalRecordKind.WithheldOp];

    public string Name => "withheld";

    public IReadOnlyList<WalRecordKind> RecordKinds => Kinds;

    public void CreateSchema(SqliteConnection connection, SqliteTransaction transaction)
    {
        // No tables: a withheld op changes no state.
    }

    public void Load(SqliteConnection connection)
    {
        // Nothing to load.
    }

    public void ValidateRemote(in StateRecord record)
    {
        if (!record.Body.IsEmpty)
        {
            throw new EdgeException(EdgeErrorCode.DocumentMalformed, $"A withheld op ({record.Header}) carries {record.Body.Length} body bytes; it must carry none.");
        }
    }

    public void Apply(in StateRecord record)
    {
        // Nothing: the database advanced the version vector already.
    }

    public void StageCheckpoint(in StateRecord record)
    {
        // Nothing to write.
    }

    public void WriteCheckpoint(SqliteConnection connection, SqliteTransaction transaction, long throughLsn)
    {
        // Nothing to write.
    }

    public void CompleteCheckpoint(long throughLsn)
    {
        // No overlay.
    }

    public void AbortCheckpoint()
    {
        // Nothing staged.
    }
}
