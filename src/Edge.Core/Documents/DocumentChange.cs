using CortexEdge.Core.State;

namespace CortexEdge.Core.Documents;

/// <summary>One entry of the document change feed: a document operation at its WAL position.</summary>
/// <param name="Lsn">The op's WAL position; resume a feed from <c>Lsn + 1</c>.</param>
/// <param name="Header">Origin replica, origin sequence and HLC of the op.</param>
/// <param name="Operation">What the op did.</param>
public sealed record DocumentChange(long Lsn, OperationHeader Header, DocumentOperation Operation);
