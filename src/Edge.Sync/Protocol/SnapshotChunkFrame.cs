namespace CortexEdge.Sync.Protocol;

/// <summary>
/// Leader -> node: chunk <see cref="Index"/> of <see cref="Total"/> of a snapshot of the leader's
/// state at <see cref="SnapshotLsn"/>. The whole snapshot is <see cref="TotalBytes"/> long with
/// CRC32C <see cref="Checksum"/>; the node verifies both once all chunks are in.
/// </summary>
public sealed class SnapshotChunkFrame : SyncFrame
{
    /// <inheritdoc />
    public override SyncFrameType Type => SyncFrameType.SnapshotChunk;

    /// <summary>Identifies this snapshot (stable across pulls so a transfer can resume).</summary>
    public required ulong SnapshotId { get; init; }

    /// <summary>The leader LSN the snapshot covers; deltas continue after it.</summary>
    public required long SnapshotLsn { get; init; }

    /// <summary>Zero-based chunk index.</summary>
    public required int Index { get; init; }

    /// <summary>Number of chunks in the snapshot (at least 1).</summary>
    public required int Total { get; init; }

    /// <summary>Length of the whole snapshot in bytes.</summary>
    public required long TotalBytes { get; init; }

    /// <summary>CRC32C of the whole snapshot.</summary>
    public required uint Checksum { get; init; }

    /// <summary>The chunk's bytes.</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }
}
