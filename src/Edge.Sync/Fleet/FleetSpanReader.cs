using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// Bounds-checked reader over a fleet message: every read checks the remaining length first and
/// throws <see cref="FleetProtocolException"/> with the offset, so a decoder never over-reads.
/// </summary>
internal ref struct FleetSpanReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ReadOnlySpan<byte> _source;
    private readonly FleetErrorCode _code;
    private readonly string _what;

    public FleetSpanReader(ReadOnlySpan<byte> source, FleetErrorCode code, string what)
    {
        _source = source;
        _code = code;
        _what = what;
        Offset = 0;
    }

    public int Offset { get; private set; }

    public readonly int Remaining => _source.Length - Offset;

    public byte ReadByte()
    {
        Need(1, "a byte");
        return _source[Offset++];
    }

    public ulong ReadUInt64()
    {
        Need(8, "a 64-bit value");
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(_source[Offset..]);
        Offset += 8;
        return value;
    }

    /// <summary>An unsigned LEB128 varint of at most 10 bytes, no longer than needed.</summary>
    public ulong ReadVarUInt()
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            byte next = ReadByte();
            if (shift == 63 && next > 1)
            {
                Fail("a varint overflows 64 bits");
            }

            value |= (ulong)(next & 0x7F) << shift;
            if ((next & 0x80) == 0)
            {
                if (next == 0 && shift > 0)
                {
                    Fail("a varint is not in its shortest form");
                }

                return value;
            }
        }

        Fail("a varint is longer than 10 bytes");
        return 0;
    }

    /// <summary>A varint that must not exceed <paramref name="max"/>.</summary>
    public int ReadCount(int max, string what)
    {
        int start = Offset;
        ulong value = ReadVarUInt();
        if (value > (ulong)max)
        {
            throw new FleetProtocolException(_code,
                $"{_what}: {what} {value} exceeds the limit {max}", start);
        }

        return (int)value;
    }

    public string ReadString(int bytesMax, string what)
    {
        int length = ReadCount(bytesMax, what + " length");
        Need(length, what);
        try
        {
            string text = StrictUtf8.GetString(_source.Slice(Offset, length));
            Offset += length;
            return text;
        }
        catch (DecoderFallbackException)
        {
            Fail($"{what} is not valid UTF-8");
            return string.Empty;
        }
    }

    /// <summary>The next <paramref name="length"/> bytes (a slice of the source).</summary>
    public ReadOnlySpan<byte> ReadBytes(int length, string what)
    {
        Need(length, what);
        ReadOnlySpan<byte> bytes = _source.Slice(Offset, length);
        Offset += length;
        return bytes;
    }

    public readonly void ExpectEnd()
    {
        if (Remaining != 0)
        {
            Fail($"{Remaining} trailing bytes");
        }
    }

    private readonly void Need(int count, string what)
    {
        if (count > Remaining)
        {
            Fail($"truncated: {what} needs {count} bytes, {Remaining} left");
        }
    }

    [DoesNotReturn]
    public readonly void Fail(string message) => throw new FleetProtocolException(_code, $"{_what}: {message}", Offset);
}
