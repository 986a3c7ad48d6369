namespace CortexEdge.Core.Binary;

/// <summary>
/// LEB128 unsigned variable-length integers (7 bits per byte, low group first). Decoding is bounded:
/// at most <see cref="UInt64BytesMax"/> bytes, and a final byte that would overflow 64 bits is an error.
/// </summary>
internal static class VarInt
{
    /// <summary>Largest encoded size of a 64-bit value.</summary>
    public const int UInt64BytesMax = 10;

    public static int SizeOf(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    /// <summary>Writes <paramref name="value"/>; returns the bytes written. The caller sized the span with <see cref="SizeOf"/>.</summary>
    public static int Write(Span<byte> destination, ulong value)
    {
        int index = 0;
        while (value >= 0x80)
        {
            destination[index++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[index++] = (byte)value;
        return index;
    }

    /// <summary>Reads a value; false when the input ends early or encodes more than 64 bits.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out ulong value, out int bytesRead)
    {
        value = 0;
        for (int index = 0; index < UInt64BytesMax && index < source.Length; index++)
        {
            byte b = source[index];
            if (index == UInt64BytesMax - 1 && b > 1)
            {
                break; // bits beyond 64
            }

            value |= (ulong)(b & 0x7F) << (7 * index);
            if (b < 0x80)
            {
                bytesRead = index + 1;
                return true;
            }
        }

        value = 0;
        bytesRead = 0;
        return false;
    }
}
