namespace CortexEdge.Core.State;

/// <summary>Tests one collection or series name (UTF-8, as stored) an operation writes.</summary>
/// <param name="utf8Name">The name's UTF-8 bytes, valid only during the call.</param>
/// <returns>True to stop: the operation matches.</returns>
public delegate bool OperationTargetMatch(ReadOnlySpan<byte> utf8Name);
