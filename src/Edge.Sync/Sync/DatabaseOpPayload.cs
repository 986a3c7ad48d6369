using CortexEdge.Core.State;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// How an <see cref="Core.EdgeDatabase"/> op travels as a <see cref="SyncOp"/>: the payload is the
/// WAL record kind (one byte) followed by the module's body; origin, sequence and HLC travel in
/// the op itself (the record's <see cref="OperationHeader"/> is not repeated).
/// </summary>
internal static class DatabaseOpPayload
{
    /// <summary>True for record kinds that are replicated ops (every kind with an operation header).</summary>
    public static bool IsOp(WalRecordKind kind) => kind is not (WalRecordKind.None or WalRecordKind.Checkpoint);

    /// <summary>Builds the sync op of a WAL record; copies the body. False when the record carries no operation header.</summary>
    public static bool TryCreate(long lsn, WalRecordKind kind, ReadOnlySpan<byte> recordPayload, out SyncOp op)
    {
        if (!IsOp(kind) || !OperationHeader.TryRead(recordPayload, out OperationHeader header))
        {
            op = default;
            return false;
        }

        ReadOnlySpan<byte> body = recordPayload[OperationHeader.EncodedBytes..];
        byte[] payload = new byte[1 + body.Length];
        payload[0] = (byte)kind;
        body.CopyTo(payload.AsSpan(1));
        op = new SyncOp(header.OriginReplicaId, checked((long)header.OriginSequence), header.Timestamp.Time, SyncOpFlags.None, payload, lsn);
        return true;
    }

    /// <summary>Splits a sync op into the database's record kind, header and body.</summary>
    /// <exception cref="SyncProtocolException"><see cref="SyncProtocolErrorCode.OpRejected"/>: empty payload or not an op kind.</exception>
    public static (WalRecordKind Kind, OperationHeader Header, ReadOnlyMemory<byte> Body) Split(in SyncOp op)
    {
        if (op.Payload.IsEmpty || op.Seq < 1)
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.OpRejected, $"op {op.Origin:X16}#{op.Seq}: empty payload or sequence below 1");
        }

        var kind = (WalRecordKind)op.Payload.Span[0];
        if (!IsOp(kind))
        {
            throw new SyncProtocolException(SyncProtocolErrorCode.OpRejected, $"op {op.Origin:X16}#{op.Seq}: record kind {(byte)kind} is not an op");
        }

        var header = new OperationHeader((ulong)op.Seq, new Core.Clocks.HlcTimestamp(op.Hlc, op.Origin));
        return (kind, header, op.Payload[1..]);
    }
}
