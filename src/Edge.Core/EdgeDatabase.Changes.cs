using CortexEdge.Core.Documents;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core;

/// <summary>The change feed.</summary>
public sealed partial class EdgeDatabase
{
    /// <summary>
    /// Document operations from <paramref name="fromLsn"/> on, in LSN order, up to the end of the log
    /// when enumeration reaches it (records of other kinds are passed over). Lazy; holds a WAL reader
    /// until enumerated or disposed.
    /// </summary>
    /// <param name="fromLsn">First LSN wanted (1 for everything still in the log).</param>
    /// <param name="maxCount">Most changes to return.</param>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.WalPositionTrimmed"/>: <paramref name="fromLsn"/> was already freed after a checkpoint
    /// (hold it with <see cref="WriteAheadLog.SetRetentionHold"/> to keep it).</exception>
    public IEnumerable<DocumentChange> ReadChanges(long fromLsn, int maxCount = int.MaxValue)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(fromLsn, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        WalReader reader = _wal.OpenReader(fromLsn);
        return ReadChanges(reader, maxCount);
    }

    private static IEnumerable<DocumentChange> ReadChanges(WalReader reader, int maxCount)
    {
        using (reader)
        {
            int returned = 0;
            while (returned < maxCount)
            {
                if (!TryReadChange(reader, out DocumentChange? change, out bool end))
                {
                    if (end)
                    {
                        yield break;
                    }

                    continue;
                }

                returned++;
                yield return change!;
            }
        }
    }

    private static bool TryReadChange(WalReader reader, out DocumentChange? change, out bool end)
    {
        change = null;
        end = !reader.TryRead(out WalRecord record);
        if (end || record.Kind != WalRecordKind.Document)
        {
            return false;
        }

        State.StateRecord stateRecord = ToStateRecord(record.Lsn, record.Kind, record.Payload);
        DocumentOperation operation = DocumentCodec.Decode(stateRecord.Body, $"WAL LSN {record.Lsn}");
        change = new DocumentChange(record.Lsn, stateRecord.Header, operation);
        return true;
    }
}
