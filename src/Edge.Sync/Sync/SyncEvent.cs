using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>An effect of a session step that the host logs or acts on.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Detail">A sequence, LSN or count, per <see cref="SyncEventKind"/>.</param>
/// <param name="Code">The error code for errors and refusals.</param>
/// <param name="Message">Text for logs (empty when none).</param>
/// <param name="Node">The node concerned (leader events), or empty.</param>
public readonly record struct SyncEvent(SyncEventKind Kind, long Detail = 0, SyncProtocolErrorCode Code = SyncProtocolErrorCode.None, string Message = "", string Node = "");
