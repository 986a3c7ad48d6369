using System.Diagnostics.CodeAnalysis;

namespace CortexEdge.Core.TimeSeries;

/// <summary>
/// Decodes a payload written by <see cref="GorillaEncoder"/>, reading by reading. Never reads past
/// the payload; any inconsistency (a bit stream that ends early, a value window wider than 64 bits,
/// a timestamp that does not increase or leaves the allowed range) throws
/// <see cref="EdgeCorruptionException"/> with <see cref="EdgeErrorCode.ChunkMalformed"/>.
/// Allocates nothing on the success path.
/// </summary>
internal ref struct GorillaDecoder
{
    private BitReader _reader;
    private long _previousTimestamp;
    private long _previousDelta;
    private ulong _previousBits;
    private int _previousLeading;
    private int _previousTrailing;
    private readonly string _location;
    private readonly int _decimalDigits;
    private readonly bool _deltaOfDelta;
    private long _previousScaled;
    private long _previousScaledDelta;

    /// <summary>
    /// Starts decoding after the chunk's first reading; <paramref name="decimalDigits"/> is -1 for XOR
    /// values, <paramref name="deltaOfDelta"/> as the encoder was given.
    /// </summary>
    public GorillaDecoder(ReadOnlySpan<byte> payload, long firstTimestamp, double firstValue, string location, int decimalDigits = -1, bool deltaOfDelta = false)
    {
        _decimalDigits = decimalDigits;
        _deltaOfDelta = decimalDigits >= 0 && deltaOfDelta;
        _previousScaled = 0;
        _previousScaledDelta = 0;
        if (decimalDigits >= 0 && !DecimalScale.TryScale(firstValue, decimalDigits, out _previousScaled))
        {
            throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, location, $"the first value does not scale to the chunk's {decimalDigits} decimal digits");
        }

        _reader = new BitReader(payload, location);
        _previousTimestamp = firstTimestamp;
        _previousDelta = 0;
        _previousBits = BitConverter.DoubleToUInt64Bits(firstValue);
        _previousLeading = -1;
        _previousTrailing = 0;
        _location = location;
    }

    /// <summary>Decodes the next reading (the second of the chunk on the first call).</summary>
    public void ReadNext(out long timestamp, out double value)
    {
        long dod = ReadDeltaOfDelta();
        long delta = unchecked(_previousDelta + dod);
        long next = unchecked(_previousTimestamp + delta);
        if (delta <= 0 || next <= _previousTimestamp || next > TimeSeriesLimits.TimestampMax)
        {
            Throw($"timestamp {next} after {_previousTimestamp} does not increase within the allowed range");
        }

        _previousDelta = delta;
        _previousTimestamp = next;
        timestamp = next;

        if (_decimalDigits >= 0)
        {
            long scaledDelta = ReadScaledDelta();
            if (_deltaOfDelta)
            {
                // A valid delta stays within ±2^54; a wrapped sum cannot land back inside ±2^53 below.
                scaledDelta = unchecked(_previousScaledDelta + scaledDelta);
            }

            long scaled = unchecked(_previousScaled + scaledDelta);
            if (scaled is > DecimalScale.ScaledMax or < -DecimalScale.ScaledMax || scaledDelta is > 2 * DecimalScale.ScaledMax or < -2 * DecimalScale.ScaledMax)
            {
                Throw($"a scaled decimal value {scaled} leaves ±2^53");
            }

            _previousScaled = scaled;
            _previousScaledDelta = scaledDelta;
            value = scaled / DecimalScale.Power(_decimalDigits);
            return;
        }

        if (!_reader.ReadBit())
        {
            value = BitConverter.UInt64BitsToDouble(_previousBits);
            return;
        }

        ulong xor;
        if (!_reader.ReadBit())
        {
            if (_previousLeading < 0)
            {
                Throw("a value reuses the previous bit window before any window was set");
            }

            int windowLength = 64 - _previousLeading - _previousTrailing;
            xor = _reader.ReadBits(windowLength) << _previousTrailing;
        }
        else
        {
            ulong control = _reader.ReadBits(11);
            int leading = (int)(control >> 6);
            int length = (int)(control & 0x3F) + 1;
            if (leading + length > 64)
            {
                Throw($"a value window of {leading} leading zeros and {length} bits exceeds 64 bits");
            }

            int trailing = 64 - leading - length;
            xor = _reader.ReadBits(length) << trailing;
            _previousLeading = leading;
            _previousTrailing = trailing;
        }

        if (xor == 0)
        {
            // The encoder writes a single 0 bit for an unchanged value; a zero XOR here means the
            // stream was not produced by it.
            Throw("a value carries an all-zero XOR in a window");
        }

        _previousBits ^= xor;
        value = BitConverter.UInt64BitsToDouble(_previousBits);
    }

    /// <summary>Checks that only zero padding (under a byte) follows the last reading.</summary>
    public readonly void EnsureComplete() => _reader.EnsureOnlyPaddingLeft();

    private long ReadScaledDelta()
    {
        if (!_reader.ReadBit())
        {
            return 0;
        }

        if (!_reader.ReadBit())
        {
            return SignExtend(_reader.ReadBits(4), 4);
        }

        if (!_reader.ReadBit())
        {
            return SignExtend(_reader.ReadBits(8), 8);
        }

        if (!_reader.ReadBit())
        {
            return SignExtend(_reader.ReadBits(16), 16);
        }

        if (!_reader.ReadBit())
        {
            return SignExtend(_reader.ReadBits(32), 32);
        }

        return (long)_reader.ReadBits(64);
    }

    private long ReadDeltaOfDelta()
    {
        if (!_reader.ReadBit())
        {
            return 0;
        }

        if (!_reader.ReadBit())
        {
            return SignExtend(_reader.ReadBits(7), 7);
        }

        if (!_reader.ReadBit())
        {
            return SignExtend(_reader.ReadBits(9), 9);
        }

        if (!_reader.ReadBit())
        {
            return SignExtend(_reader.ReadBits(12), 12);
        }

        if (!_reader.ReadBit())
        {
            return SignExtend(_reader.ReadBits(20), 20);
        }

        if (!_reader.ReadBit())
        {
            return SignExtend(_reader.ReadBits(32), 32);
        }

        return (long)_reader.ReadBits(64);
    }

    private static long SignExtend(ulong raw, int bits) => (long)(raw << (64 - bits)) >> (64 - bits);

    [DoesNotReturn]
    private readonly void Throw(string message) =>
        throw new EdgeCorruptionException(EdgeErrorCode.ChunkMalformed, $"{_location} bit {_reader.BitPosition}", message);
}
