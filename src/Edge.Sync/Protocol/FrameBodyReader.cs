using System.Buffers.Binary;

namespace CortexEdge.Sync.Protocol;

/// <summary>
/// Reads fields from a frame body without ever reading past it: a read beyond the end, or a
/// varint that overflows, marks the reader failed and returns 0; callers check
/// <see cref="Failed"/> before acting on what they read (in particular before allocating by a count).
/// </summary>
internal ref struct FrameBodyReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public FrameBodyReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
        Failed = false;
    }

    public bool Failed { get; private set; }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    public byte ReadByte() => TryTake(1, out ReadOnlySpan<byte> s) ? s[0] : (byte)0;

    public ushort ReadUInt16() => TryTake(2, out ReadOnlySpan<byte> s) ? BinaryPrimitives.ReadUInt16LittleEndian(s) : (ushort)0;

    public uint ReadUInt32() => TryTake(4, out ReadOnlySpan<byte> s) ? BinaryPrimitives.ReadUInt32LittleEndian(s) : 0u;

    public ulong ReadUInt64() => TryTake(8, out ReadOnlySpan<byte> s) ? BinaryPrimitives.ReadUInt64LittleEndian(s) : 0ul;

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (!TryTake(1, out ReadOnlySpan<byte> s))
            {
                return 0;
            }

            byte b = s[0];
            if (shift == 63 && b > 1)
            {
                break;
            }

            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        Failed = true;
        return 0;
    }

    /// <summary>A varint that must be a non-negative <see cref="long"/>.</summary>
    public long ReadVarintInt64()
    {
        ulong value = ReadVarint();
        if (value > long.MaxValue)
        {
            Failed = true;
            return 0;
        }

        return (long)value;
    }

    /// <summary>A varint that must be a non-negative <see cref="int"/> no larger than <paramref name="max"/>.</summary>
    public int ReadVarintInt32(int max)
    {
        ulong value = ReadVarint();
        if (value > (ulong)max)
        {
            Failed = true;
            return 0;
        }

        return (int)value;
    }

    public ReadOnlySpan<byte> ReadBytes(int count) => TryTake(count, out ReadOnlySpan<byte> s) ? s : default;

    private bool TryTake(int count, out ReadOnlySpan<byte> span)
    {
        if (Failed || count < 0 || count > _data.Length - _position)
        {
            Failed = true;
            span = default;
            return false;
        }

        span = _data.Slice(_position, count);
        _position += count;
        return true;
    }
}
