namespace CortexEdge.Core.Vectors;

/// <summary>
/// Where a <see cref="VectorIdMap"/> reads the UTF-8 id of a slot: the float32 file's slot trailers
/// (<see cref="VectorFile"/>) normally, the index file's payload while an open loads it (so an open
/// reads no page of the float32 file).
/// </summary>
internal interface IVectorIdSource
{
    /// <summary>The UTF-8 id of <paramref name="slot"/> (empty for a free slot).</summary>
    ReadOnlySpan<byte> GetId(int slot);
}
