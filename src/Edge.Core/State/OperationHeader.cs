using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CortexEdge.Core.Clocks;

namespace CortexEdge.Core.State;

/// <summary>
/// The fixed prefix of every operation record's payload (documents, time series, vectors, ...):
/// which replica originated the op, its sequence in that replica's op stream, and its HLC. Sync
/// ships ops by (origin, sequence); LWW compares timestamps. The module's own body follows it.
/// </summary>
/// <remarks>Encoding: <see cref="EncodedBytes"/> bytes little endian: origin replica id, origin
/// sequence, packed HLC time. The timestamp's replica id is the origin replica id.</remarks>
[StructLayout(LayoutKind.Auto)]
public readonly struct OperationHeader : IEquatable<OperationHeader>
{
    /// <summary>Size of the encoding in bytes.</summary>
    public const int EncodedBytes = 24;

    /// <summary>Creates a header.</summary>
    /// <param name="originSequence">1-based position in the origin's op stream.</param>
    /// <param name="timestamp">The HLC issued by the origin; its replica id is the origin.</param>
    public OperationHeader(ulong originSequence, HlcTimestamp timestamp)
    {
        OriginSequence = originSequence;
        Timestamp = timestamp;
    }

    /// <summary>The replica that originated the op.</summary>
    public ulong OriginReplicaId => Timestamp.ReplicaId;

    /// <summary>1-based position in the origin replica's op stream (dense, no gaps).</summary>
    public ulong OriginSequence { get; }

    /// <summary>The op's hybrid logical clock timestamp.</summary>
    public HlcTimestamp Timestamp { get; }

    /// <summary>Writes the encoding to the start of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, OriginReplicaId);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], OriginSequence);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], Timestamp.Time);
    }

    /// <summary>Reads a header from the start of <paramref name="source"/>; false if it is too short or the sequence is 0.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out OperationHeader header)
    {
        if (source.Length < EncodedBytes)
        {
            header = default;
            return false;
        }

        ulong origin = BinaryPrimitives.ReadUInt64LittleEndian(source);
        ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        ulong time = BinaryPrimitives.ReadUInt64LittleEndian(source[16..]);
        header = new OperationHeader(sequence, new HlcTimestamp(time, origin));
        return sequence != 0;
    }

    /// <inheritdoc/>
    public bool Equals(OperationHeader other) => OriginSequence == other.OriginSequence && Timestamp == other.Timestamp;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is OperationHeader other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(OriginSequence, Timestamp);

    /// <summary>Formats as "origin#sequence@hlc".</summary>
    public override string ToString() => $"{OriginReplicaId:x16}#{OriginSequence}@{Timestamp}";

    /// <summary>Equality.</summary>
    public static bool operator ==(OperationHeader left, OperationHeader right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(OperationHeader left, OperationHeader right) => !left.Equals(right);
}
