using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Reads bits most-significant first from a span, never past its end: a read beyond the last bit
/// throws <see cref="EdgeCorruptionException"/> (<see cref="EdgeErrorCode.ChunkMalformed"/>) naming
/// the bit offset. Allocates nothing on the success path.
/// </summary>
internal ref struct BitReader
{
    private readonly ReadOnlySpan<byte> _source;
    private int _bytePosition;  // next byte to load into the buffer
    private ulong _buffer;      // loaded bits, left-aligned
    private int _bufferBits;    // 0..64
    private readonly string _location;

    public BitReader(ReadOnlySpan<byte> source, string location)
    {
        _source = source;
        _bytePosition = 0;
        _buffer = 0;
        _bufferBits = 0;
        _location = location;
    }

    /// <summary>Bits consumed so far.</summary>
    public readonly long BitPosition => (_bytePosition * 8L) - _bufferBits;

    /// <summary>Bits left in the source.</summary>
    public readonly long RemainingBits => ((_source.Length - _bytePosition) * 8L) + _bufferBits;

    /// <summary>Reads one bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ReadBit()
    {
        if (_bufferBits == 0)
        {
            Refill();
            if (_bufferBits == 0)
            {
                ThrowPastEnd(1);
            }
        }

        bool bit = (_buffer >> 63) != 0;
        _buffer <<= 1;
        _bufferBits--;
        return bit;
    }

    /// <summary>Reads <paramref name="count"/> bits (1..64) as an unsigned number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadBits(int count)
    {
        if (count > 32)
        {
            ulong high = ReadBitsSmall(count - 32);
            return (high << 32) | ReadBitsSmall(32);
        }

        return ReadBitsSmall(count);
    }

    private ulong ReadBitsSmall(int count)
    {
        if (count > _bufferBits)
        {
            Refill();
            if (count > _bufferBits)
            {
                ThrowPastEnd(count);
            }
        }

        ulong value = _buffer >> (64 - count);
        _buffer = count == 64 ? 0 : _buffer << count;
        _bufferBits -= count;
        return value;
    }

    private void Refill()
    {
        while (_bufferBits <= 56 && _bytePosition < _source.Length)
        {
            _buffer |= (ulong)_source[_bytePosition++] << (56 - _bufferBits);
            _bufferBits += 8;
        }
    }

    /// <summary>Checks that what is left is zero padding shorter than a byte.</summary>
    public readonly void EnsureOnlyPaddingLeft()
    {
        long remaining = RemainingBits;
        if (remaining >= 8)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, $"{_location} bit {BitPosition}", $"{remaining} bits follow the last reading; expected under 8 bits of padding");
        }

        if (remaining > 0 && (_buffer >> (64 - (int)remaining)) != 0)
        {
            throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, $"{_location} bit {BitPosition}", "padding bits after the last reading are not zero");
        }
    }

    [DoesNotReturn]
    private readonly void ThrowPastEnd(int count) =>
        throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, $"{_location} bit {BitPosition}", $"needs {count} more bits but the payload ends ({_source.Length} bytes)");
}
