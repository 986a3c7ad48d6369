using CortexEdge.Core.State;

namespace CortexEdge.Core;

/// <summary>What an acknowledged write returns: where it is in the local log and how it is identified for sync.</summary>
/// <param name="Lsn">The WAL record's log sequence number (the change feed position).</param>
/// <param name="Header">Origin replica, origin sequence and HLC stamped on the op.</param>
public readonly record struct WriteReceipt(long Lsn, OperationHeader Header);
