using CortexEdge.Sync.Protocol;

namespace CortexEdge.Sync.Sync;

/// <summary>The last error a session saw.</summary>
/// <param name="Code">The error code.</param>
/// <param name="Message">What happened.</param>
/// <param name="At">When.</param>
public sealed record SyncError(SyncProtocolErrorCode Code, string Message, DateTimeOffset At);
