namespace CortexEdge.Sync.Protocol;

/// <summary>
/// Node -> leader: a run of the node's own ops with consecutive origin sequences starting at
/// <see cref="FirstSeq"/> (the sequences are implied, not sent per op). Every op's
/// <see cref="SyncOp.Origin"/> equals <see cref="Origin"/>.
/// </summary>
public sealed class UploadBatchFrame : SyncFrame
{
    /// <inheritdoc />
    public override SyncFrameType Type => SyncFrameType.UploadBatch;

    /// <summary>Replica id that wrote the ops (the sender's own id).</summary>
    public required ulong Origin { get; init; }

    /// <summary>Origin sequence of the first op; op i has sequence FirstSeq + i.</summary>
    public required long FirstSeq { get; init; }

    /// <summary>The ops, in origin-sequence order.</summary>
    public required IReadOnlyList<SyncOp> Ops { get; init; }

    /// <summary>Origin sequence of the last op (FirstSeq - 1 when empty).</summary>
    public long LastSeq => FirstSeq + Ops.Count - 1;
}
