using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using CortexEdge.Core.Clocks;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// Reads the primitives written by <see cref="CrdtWriter"/>, bounds-checked: every failure is an
/// <see cref="EdgeException"/> with <see cref="EdgeErrorCode.CrdtMalformed"/> naming the offset.
/// Never reads past the input.
/// </summary>
public ref struct CrdtReader
{
    private readonly ReadOnlySpan<byte> _input;
    private int _offset;

    /// <summary>Creates a reader over <paramref name="input"/>.</summary>
    public CrdtReader(ReadOnlySpan<byte> input)
    {
        _input = input;
        _offset = 0;
    }

    /// <summary>Bytes consumed so far.</summary>
    public readonly int Offset => _offset;

    /// <summary>Bytes not yet consumed.</summary>
    public readonly int Remaining => _input.Length - _offset;

    /// <summary>Reads and checks the format version and returns the kind.</summary>
    public CrdtKind ReadHeader()
    {
        if (_input.Length > CrdtEncoding.EncodedBytesMax)
        {
            Fail($"encoding of {_input.Length} bytes exceeds EncodedBytesMax {CrdtEncoding.EncodedBytesMax}");
        }

        byte version = ReadByte();
        if (version != CrdtEncoding.FormatVersion)
        {
            Fail($"format version {version} is not supported (expected {CrdtEncoding.FormatVersion})", _offset - 1);
        }

        byte kind = ReadByte();
        if (kind is < (byte)CrdtKind.GCounter or > (byte)CrdtKind.LwwMap)
        {
            Fail($"unknown CRDT kind {kind}", _offset - 1);
        }

        return (CrdtKind)kind;
    }

    /// <summary>Reads the header and requires it to be <paramref name="expected"/>.</summary>
    public void ReadHeader(CrdtKind expected)
    {
        CrdtKind kind = ReadHeader();
        if (kind != expected)
        {
            Fail($"encoding holds a {kind}, expected a {expected}", 1);
        }
    }

    /// <summary>Reads one byte.</summary>
    public byte ReadByte()
    {
        if (_offset >= _input.Length)
        {
            Fail("truncated: expected 1 more byte");
        }

        return _input[_offset++];
    }

    /// <summary>Reads an unsigned LEB128 varint; rejects overlong and overflowing encodings.</summary>
    public ulong ReadVarUInt64()
    {
        int start = _offset;
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_offset >= _input.Length)
            {
                Fail("truncated varint", start);
            }

            byte b = _input[_offset++];
            if (shift == 63 && b > 1)
            {
                Fail("varint overflows 64 bits", start);
            }

            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                // A zero final byte after the first is a non-canonical (padded) encoding.
                if (b == 0 && shift > 0)
                {
                    Fail("overlong varint", start);
                }

                return result;
            }
        }

        Fail("varint longer than 10 bytes", start);
        return 0;
    }

    /// <summary>Reads a zigzag varint.</summary>
    public long ReadVarInt64()
    {
        ulong raw = ReadVarUInt64();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>Reads a varint that must fit an int32 and be at most <paramref name="max"/>.</summary>
    public int ReadCount(int max, string what)
    {
        int start = _offset;
        ulong value = ReadVarUInt64();
        if (value > (ulong)max)
        {
            Fail($"{what} {value} exceeds the limit {max} (at most one per remaining byte)", start);
        }

        return (int)value;
    }

    /// <summary>Reads a varint count of items, each at least <paramref name="minItemBytes"/> long, so the count cannot exceed what the input could hold.</summary>
    public int ReadItemCount(int minItemBytes, string what)
    {
        int start = _offset;
        ulong value = ReadVarUInt64();
        if (value > (ulong)(Remaining / Math.Max(1, minItemBytes)))
        {
            Fail($"{what} {value} cannot fit in the remaining {Remaining} bytes", start);
        }

        return (int)value;
    }

    /// <summary>Reads a little-endian 64-bit value.</summary>
    public ulong ReadUInt64()
    {
        if (Remaining < 8)
        {
            Fail($"truncated: expected 8 bytes, {Remaining} left");
        }

        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(_input.Slice(_offset, 8));
        _offset += 8;
        return value;
    }

    /// <summary>Reads a varint length and returns that many bytes (a slice of the input, not a copy).</summary>
    public ReadOnlySpan<byte> ReadLengthPrefixed()
    {
        int start = _offset;
        ulong length = ReadVarUInt64();
        if (length > (ulong)Remaining)
        {
            Fail($"length {length} exceeds the remaining {Remaining} bytes", start);
        }

        ReadOnlySpan<byte> slice = _input.Slice(_offset, (int)length);
        _offset += (int)length;
        return slice;
    }

    /// <summary>Reads a timestamp written by <see cref="CrdtWriter.WriteTimestamp"/>.</summary>
    public HlcTimestamp ReadTimestamp()
    {
        ulong time = ReadVarUInt64();
        ulong replica = ReadUInt64();
        return new HlcTimestamp(time, replica);
    }

    /// <summary>Requires that the whole input was consumed.</summary>
    public readonly void ReadEnd()
    {
        if (_offset != _input.Length)
        {
            Fail($"{_input.Length - _offset} trailing bytes after the encoding");
        }
    }

    /// <summary>Throws <see cref="EdgeErrorCode.CrdtMalformed"/> naming the current offset.</summary>
    [DoesNotReturn]
    public readonly void Fail(string message) => Fail(message, _offset);

    /// <summary>Throws <see cref="EdgeErrorCode.CrdtMalformed"/> naming <paramref name="offset"/>.</summary>
    [DoesNotReturn]
    public readonly void Fail(string message, int offset) =>
        throw new EdgeException(EdgeErrorCode.CrdtMalformed, $"malformed CRDT encoding at offset {offset} of {_input.Length}: {message}");
}
