namespace CortexEdge.Sync.Protocol;

/// <summary>
/// A decoded sync frame: the header fields every frame carries, plus the type-specific body of a
/// subclass. Frames are immutable once built; a decoded frame's ops and chunk data point into a
/// body buffer owned by the frame. Encode with <see cref="SyncFrameCodec"/>.
/// </summary>
public abstract class SyncFrame
{
    /// <summary>What the frame is.</summary>
    public abstract SyncFrameType Type { get; }

    /// <summary>The fleet (one deployment) the frame belongs to; 1..<see cref="SyncFrameCodec.NameBytesMax"/> UTF-8 bytes.</summary>
    public required string Fleet { get; init; }

    /// <summary>The edge node's name: the sender of node -> leader frames, the addressee of leader -> node frames.</summary>
    public required string Node { get; init; }

    /// <summary>Replica id of the database that sent the frame.</summary>
    public required ulong Sender { get; init; }

    /// <summary>True on the final frame of a multi-frame response.</summary>
    public bool IsLast { get; init; }
}
