using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Writes bits most-significant first into a caller-owned span. Bits gather in a 64-bit
/// accumulator and are stored eight bytes at a time (big-endian, so bit order equals byte order).
/// Allocates nothing. Callers size the span with <see cref="GorillaEncoder.MaxPayloadBytes"/>; a
/// write past the end throws <see cref="ArgumentException"/> (a caller bug, not bad data).
/// </summary>
internal ref struct BitWriter
{
    private readonly Span<byte> _destination;
    private int _bytePosition;
    private ulong _accumulator;   // pending bits, left-aligned
    private int _accumulatorBits; // 0..63

    public BitWriter(Span<byte> destination)
    {
        _destination = destination;
        _bytePosition = 0;
        _accumulator = 0;
        _accumulatorBits = 0;
    }

    /// <summary>Number of bits written so far.</summary>
    public readonly long BitCount => (_bytePosition * 8L) + _accumulatorBits;

    /// <summary>Appends one bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteBit(bool bit) => WriteBits(bit ? 1UL : 0UL, 1);

    /// <summary>Appends the low <paramref name="count"/> bits of <paramref name="value"/> (1..64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteBits(ulong value, int count)
    {
        Debug.Assert(count is >= 1 and <= 64, "bit count must be 1..64");
        if (count < 64)
        {
            value &= (1UL << count) - 1;
        }

        int free = 64 - _accumulatorBits;
        if (count < free)
        {
            _accumulator |= value << (free - count);
            _accumulatorBits += count;
            return;
        }

        // Fill the accumulator, store it, keep the rest of the value.
        int rest = count - free;
        _accumulator |= value >> rest;
        StoreAccumulator();
        _accumulator = rest == 0 ? 0 : value << (64 - rest);
        _accumulatorBits = rest;
    }

    /// <summary>Stores the pending bits (zero-padded to a byte) and returns the bytes written.</summary>
    public int Complete()
    {
        int bytes = (_accumulatorBits + 7) / 8;
        EnsureSpace(bytes);
        for (int i = 0; i < bytes; i++)
        {
            _destination[_bytePosition++] = (byte)(_accumulator >> (56 - (8 * i)));
        }

        _accumulator = 0;
        _accumulatorBits = 0;
        return _bytePosition;
    }

    private void StoreAccumulator()
    {
        EnsureSpace(8);
        BinaryPrimitives.WriteUInt64BigEndian(_destination.Slice(_bytePosition, 8), _accumulator);
        _bytePosition += 8;
    }

    private readonly void EnsureSpace(int bytes)
    {
        if (_bytePosition + bytes > _destination.Length)
        {
            ThrowFull(_destination.Length);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowFull(int length) =>
        throw new ArgumentException($"The encoded chunk does not fit in the {length}-byte destination; size it with GorillaEncoder.MaxPayloadBytes.");
}
