namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// The MQTT variable byte integer: 7 bits per byte, least significant group first, at most 4 bytes
/// (values 0 to 268,435,455), always in the fewest bytes.
/// </summary>
internal static class MqttVariableByteInteger
{
    public const int MaxValue = 268_435_455;
    public const int MaxLength = 4;

    public static int GetLength(int value) => value switch
    {
        < 128 => 1,
        < 16_384 => 2,
        < 2_097_152 => 3,
        _ => 4,
    };

    /// <summary>Writes <paramref name="value"/> and returns the number of bytes written.</summary>
    public static int Write(Span<byte> destination, int value)
    {
        if ((uint)value > MaxValue)
        {
            MqttThrow.Options($"Value {value} does not fit a variable byte integer (maximum {MaxValue}).");
        }

        int index = 0;
        do
        {
            byte encoded = (byte)(value & 0x7F);
            value >>= 7;
            if (value > 0)
            {
                encoded |= 0x80;
            }

            destination[index++] = encoded;
        }
        while (value > 0);
        return index;
    }

    /// <summary>
    /// Reads a variable byte integer. Returns 1 when read, 0 when <paramref name="source"/> ends
    /// before the last byte, -1 when the encoding is longer than 4 bytes or not minimal.
    /// </summary>
    public static int TryRead(ReadOnlySpan<byte> source, out int value, out int length)
    {
        value = 0;
        length = 0;
        int multiplier = 0;
        while (true)
        {
            if (length >= source.Length)
            {
                return 0;
            }

            byte encoded = source[length++];
            value |= (encoded & 0x7F) << multiplier;
            if ((encoded & 0x80) == 0)
            {
                // A last byte of zero after a continuation adds nothing: a non-minimal encoding.
                return length > 1 && encoded == 0 ? -1 : 1;
            }

            if (length == MaxLength)
            {
                return -1;
            }

            multiplier += 7;
        }
    }
}
