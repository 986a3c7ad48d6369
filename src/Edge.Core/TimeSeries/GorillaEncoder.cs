using System.Numerics;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Encodes readings after a chunk's first one with the Gorilla scheme (Pelkonen et al., VLDB 2015):
/// timestamps as delta-of-delta in prefix-coded buckets, values as the XOR with the previous
/// value's IEEE-754 bits. The first reading lives in the chunk header, so the payload starts with
/// the second. Timestamps must strictly increase (the caller sorts and de-duplicates); values are
/// kept bit-exact (NaN payloads, signed zeros, infinities, denormals). Allocates nothing.
/// </summary>
/// <remarks>
/// Timestamp bits: <c>0</c> dod = 0; <c>10</c>+7 bits (-64..63); <c>110</c>+9 bits (-256..255);
/// <c>1110</c>+12 bits (-2048..2047); <c>11110</c>+20 bits (±2^19); <c>111110</c>+32 bits; <c>111111</c>+64 bits.
/// Value bits: <c>0</c> same bits as before; <c>10</c>+meaningful bits inside the previous
/// leading/trailing-zero window; <c>11</c>+5 bits leading zeros (0..31)+6 bits (length-1)+bits.
/// </remarks>
internal ref struct GorillaEncoder
{
    /// <summary>Worst case per reading after the first: 6+64 timestamp bits and 2+5+6+64 value bits (147), rounded up to bytes.</summary>
    public const int ReadingBytesMax = 19;

    private BitWriter _writer;
    private long _previousTimestamp;
    private long _previousDelta;
    private ulong _previousBits;
    private int _previousLeading;
    private int _previousTrailing;
    private readonly int _decimalDigits;
    private readonly bool _deltaOfDelta;
    private long _previousScaled;
    private long _previousScaledDelta;

    /// <summary>Starts a payload after the chunk's first reading.</summary>
    /// <param name="destination">Receives the payload.</param>
    /// <param name="firstTimestamp">The chunk's first timestamp (stored in the header).</param>
    /// <param name="firstValue">The chunk's first value (stored in the header).</param>
    /// <param name="decimalDigits">-1 for XOR-encoded values; 0..9 to store every value as the
    /// delta of value × 10^digits (every value must pass <see cref="DecimalScale.TryScale"/>).</param>
    /// <param name="deltaOfDelta">With decimal digits: store the change of that delta instead (see <see cref="DecimalDeltaCost"/>).</param>
    public GorillaEncoder(Span<byte> destination, long firstTimestamp, double firstValue, int decimalDigits = -1, bool deltaOfDelta = false)
    {
        _decimalDigits = decimalDigits;
        _deltaOfDelta = decimalDigits >= 0 && deltaOfDelta;
        _previousScaled = 0;
        _previousScaledDelta = 0;
        if (decimalDigits >= 0 && !DecimalScale.TryScale(firstValue, decimalDigits, out _previousScaled))
        {
            throw new ArgumentException($"The first value does not scale exactly to {decimalDigits} decimal digits.", nameof(firstValue));
        }

        _writer = new BitWriter(destination);
        _previousTimestamp = firstTimestamp;
        _previousDelta = 0;
        _previousBits = BitConverter.DoubleToUInt64Bits(firstValue);
        _previousLeading = -1;
        _previousTrailing = 0;
    }

    /// <summary>Payload bytes that always suffice for a chunk of <paramref name="count"/> readings.</summary>
    public static int MaxPayloadBytes(int count) => count <= 1 ? 0 : (count - 1) * ReadingBytesMax;

    /// <summary>Appends a reading whose timestamp is greater than the previous one.</summary>
    public void Append(long timestamp, double value)
    {
        long delta = timestamp - _previousTimestamp;
        long deltaOfDelta = delta - _previousDelta;
        WriteDeltaOfDelta(deltaOfDelta);
        _previousTimestamp = timestamp;
        _previousDelta = delta;

        if (_decimalDigits >= 0)
        {
            if (!DecimalScale.TryScale(value, _decimalDigits, out long scaled))
            {
                throw new ArgumentException($"Value {value} does not scale exactly to {_decimalDigits} decimal digits.", nameof(value));
            }

            // Both stay within ±2^53, so neither difference overflows.
            long scaledDelta = scaled - _previousScaled;
            WriteScaledDelta(_deltaOfDelta ? scaledDelta - _previousScaledDelta : scaledDelta);
            _previousScaled = scaled;
            _previousScaledDelta = scaledDelta;
            return;
        }

        ulong bits = BitConverter.DoubleToUInt64Bits(value);
        ulong xor = bits ^ _previousBits;
        _previousBits = bits;
        if (xor == 0)
        {
            _writer.WriteBits(0, 1);
            return;
        }

        int leading = Math.Min(BitOperations.LeadingZeroCount(xor), 31);
        int trailing = BitOperations.TrailingZeroCount(xor);
        if (_previousLeading >= 0 && leading >= _previousLeading && trailing >= _previousTrailing)
        {
            int windowLength = 64 - _previousLeading - _previousTrailing;
            _writer.WriteBits(0b10, 2);
            _writer.WriteBits(xor >> _previousTrailing, windowLength);
            return;
        }

        int length = 64 - leading - trailing;
        // One write of 2+5+6 = 13 control bits.
        _writer.WriteBits((0b11UL << 11) | ((ulong)(uint)leading << 6) | (uint)(length - 1), 13);
        _writer.WriteBits(xor >> trailing, length);
        _previousLeading = leading;
        _previousTrailing = trailing;
    }

    /// <summary>Pads the last byte with zeros and returns the payload length in bytes.</summary>
    public int Complete() => _writer.Complete();

    /// <summary>Bits <see cref="WriteScaledDelta"/> takes for <paramref name="delta"/>.</summary>
    public static int ScaledDeltaBits(long delta) => delta switch
    {
        0 => 1,
        >= -8 and <= 7 => 6,
        >= -128 and <= 127 => 11,
        >= short.MinValue and <= short.MaxValue => 20,
        >= int.MinValue and <= int.MaxValue => 37,
        _ => 69,
    };

    /// <summary>Decimal values: <c>0</c> same; <c>10</c>+4 bits; <c>110</c>+8; <c>1110</c>+16; <c>11110</c>+32; <c>11111</c>+64.</summary>
    private void WriteScaledDelta(long delta)
    {
        if (delta == 0)
        {
            _writer.WriteBits(0, 1);
        }
        else if (delta is >= -8 and <= 7)
        {
            _writer.WriteBits((0b10UL << 4) | ((ulong)delta & 0xF), 6);
        }
        else if (delta is >= -128 and <= 127)
        {
            _writer.WriteBits((0b110UL << 8) | ((ulong)delta & 0xFF), 11);
        }
        else if (delta is >= short.MinValue and <= short.MaxValue)
        {
            _writer.WriteBits((0b1110UL << 16) | ((ulong)delta & 0xFFFF), 20);
        }
        else if (delta is >= int.MinValue and <= int.MaxValue)
        {
            _writer.WriteBits(0b11110, 5);
            _writer.WriteBits((ulong)delta & 0xFFFF_FFFF, 32);
        }
        else
        {
            _writer.WriteBits(0b11111, 5);
            _writer.WriteBits((ulong)delta, 64);
        }
    }

    private void WriteDeltaOfDelta(long dod)
    {
        if (dod == 0)
        {
            _writer.WriteBits(0, 1);
        }
        else if (dod is >= -64 and <= 63)
        {
            _writer.WriteBits((0b10UL << 7) | ((ulong)dod & 0x7F), 9);
        }
        else if (dod is >= -256 and <= 255)
        {
            _writer.WriteBits((0b110UL << 9) | ((ulong)dod & 0x1FF), 12);
        }
        else if (dod is >= -2048 and <= 2047)
        {
            _writer.WriteBits((0b1110UL << 12) | ((ulong)dod & 0xFFF), 16);
        }
        else if (dod is >= -(1 << 19) and < (1 << 19))
        {
            // Irregular intervals (seconds of jitter, minutes of drift) land here rather than in 32 bits.
            _writer.WriteBits((0b11110UL << 20) | ((ulong)dod & 0xF_FFFF), 25);
        }
        else if (dod is >= int.MinValue and <= int.MaxValue)
        {
            _writer.WriteBits(0b111110, 6);
            _writer.WriteBits((ulong)dod & 0xFFFF_FFFF, 32);
        }
        else
        {
            _writer.WriteBits(0b111111, 6);
            _writer.WriteBits((ulong)dod, 64);
        }
    }
}
