using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>
/// What one session step asks the host to do: frames to send (in order) and events to log or
/// act on. The leader's frames are addressed by <see cref="SyncFrame.Node"/>.
/// </summary>
public sealed class SyncActions
{
    /// <summary>Frames to send, in order.</summary>
    public List<SyncFrame> Frames { get; } = [];

    /// <summary>Effects to log or act on.</summary>
    public List<SyncEvent> Events { get; } = [];

    /// <summary>True when there is nothing to send and nothing to report.</summary>
    public bool IsEmpty => Frames.Count == 0 && Events.Count == 0;
}
