using System.Buffers.Binary;
using System.Buffers;
using CortexEdge.Core.Clocks;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// Appends the primitives of the CRDT encodings to a buffer writer: unsigned LEB128 varints,
/// zigzag varints for signed values, little-endian fixed-width integers and length-prefixed bytes.
/// </summary>
public ref struct CrdtWriter
{
    private readonly IBufferWriter<byte> _output;

    /// <summary>Creates a writer appending to <paramref name="output"/>.</summary>
    public CrdtWriter(IBufferWriter<byte> output)
    {
        _output = output;
    }

    /// <summary>Appends one byte.</summary>
    public readonly void WriteByte(byte value)
    {
        Span<byte> span = _output.GetSpan(1);
        span[0] = value;
        _output.Advance(1);
    }

    /// <summary>Appends an unsigned LEB128 varint (1 to 10 bytes).</summary>
    public readonly void WriteVarUInt64(ulong value)
    {
        Span<byte> span = _output.GetSpan(10);
        int index = 0;
        while (value >= 0x80)
        {
            span[index++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[index++] = (byte)value;
        _output.Advance(index);
    }

    /// <summary>Appends a signed value as a zigzag varint, so small magnitudes of either sign stay short.</summary>
    public readonly void WriteVarInt64(long value) => WriteVarUInt64((ulong)((value << 1) ^ (value >> 63)));

    /// <summary>Appends a little-endian 64-bit value (replica ids are random, so a varint would not help).</summary>
    public readonly void WriteUInt64(ulong value)
    {
        Span<byte> span = _output.GetSpan(8);
        BinaryPrimitives.WriteUInt64LittleEndian(span, value);
        _output.Advance(8);
    }

    /// <summary>Appends a varint length followed by the bytes.</summary>
    public readonly void WriteLengthPrefixed(ReadOnlySpan<byte> bytes)
    {
        WriteVarUInt64((ulong)bytes.Length);
        WriteRaw(bytes);
    }

    /// <summary>Appends the bytes without a length.</summary>
    public readonly void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        bytes.CopyTo(_output.GetSpan(bytes.Length));
        _output.Advance(bytes.Length);
    }

    /// <summary>Appends a timestamp: varint time, fixed 8-byte replica.</summary>
    public readonly void WriteTimestamp(HlcTimestamp timestamp)
    {
        WriteVarUInt64(timestamp.Time);
        WriteUInt64(timestamp.ReplicaId);
    }
}
