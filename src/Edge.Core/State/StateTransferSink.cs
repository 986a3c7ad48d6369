using CortexEdge.Core.Clocks;
using CortexEdge.Core.Wal;

namespace CortexEdge.Core.State;

/// <summary>
/// Receives one op of a replicated-state export (<see cref="EdgeDatabase.ExportReplicatedState"/>):
/// a record kind, the HLC the op must carry where the module resolves conflicts by it
/// (<see cref="HlcTimestamp.Zero"/> where the body carries its own timestamps; for a time-series batch, time 0 and the readings' origin replica), and the module's
/// body. <paramref name="body"/> is valid only during the call.
/// </summary>
public delegate void StateTransferSink(WalRecordKind kind, HlcTimestamp timestamp, ReadOnlySpan<byte> body);
