using CortexEdge.Core.Wal;

namespace CortexEdge.Core.State;

/// <summary>
/// One operation record as a state module sees it: its LSN and kind from the WAL, the common
/// <see cref="OperationHeader"/>, and the module's own encoded body. Valid only during the call it
/// is passed to (the body may point into a mapped WAL segment): copy what you keep.
/// </summary>
public readonly ref struct StateRecord
{
    /// <summary>Creates a record view.</summary>
    public StateRecord(long lsn, WalRecordKind kind, OperationHeader header, ReadOnlySpan<byte> body)
    {
        Lsn = lsn;
        Kind = kind;
        Header = header;
        Body = body;
    }

    /// <summary>The record's log sequence number (dense, +1 per record).</summary>
    public long Lsn { get; }

    /// <summary>The record kind; one of the owning module's <see cref="IStateModule.RecordKinds"/>.</summary>
    public WalRecordKind Kind { get; }

    /// <summary>Origin replica, origin sequence and HLC of the op.</summary>
    public OperationHeader Header { get; }

    /// <summary>The module's encoding of the op, after the header.</summary>
    public ReadOnlySpan<byte> Body { get; }
}
