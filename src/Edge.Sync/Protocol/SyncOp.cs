namespace CortexEdge.Sync.Protocol;

/// <summary>
/// One replicated operation as the protocol sees it: who wrote it (<see cref="Origin"/>, the
/// writer's replica id), its position in the writer's stream (<see cref="Seq"/>, dense from 1),
/// its hybrid logical clock stamp, and the storage engine's encoding of the change as an opaque
/// payload. <see cref="Lsn"/> is the leader's log position (0 while the op is being uploaded).
/// The payload memory belongs to whoever produced the op (a decoded frame's body, a store's log);
/// copy it to keep it beyond that owner's lifetime.
/// </summary>
/// <param name="Origin">Replica id of the writer.</param>
/// <param name="Seq">Origin sequence, 1 for the writer's first op.</param>
/// <param name="Hlc">Hybrid logical clock stamp: Unix milliseconds in the upper 48 bits, a logical counter in the lower 16.</param>
/// <param name="Flags">Priority and delete flags.</param>
/// <param name="Payload">The storage engine's encoding of the change.</param>
/// <param name="Lsn">Leader log position; 0 when not (yet) in the leader's log.</param>
public readonly record struct SyncOp(ulong Origin, long Seq, ulong Hlc, SyncOpFlags Flags, ReadOnlyMemory<byte> Payload, long Lsn = 0)
{
    /// <summary>Physical part of <see cref="Hlc"/> in Unix milliseconds.</summary>
    public long HlcUnixMilliseconds => (long)(Hlc >> 16);

    /// <summary>Packs a physical time (Unix ms) and a logical counter into an HLC value.</summary>
    public static ulong PackHlc(long unixMilliseconds, ushort logical) => ((ulong)unixMilliseconds << 16) | logical;
}
