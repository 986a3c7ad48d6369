using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// The MQTT rules for UTF-8 strings (3.1.1 section 1.5.3, 5.0 section 1.5.4): well-formed UTF-8
/// without surrogate code points, no U+0000, at most 65,535 bytes.
/// </summary>
internal static class MqttUtf8
{
    public const int MaxByteCount = ushort.MaxValue;

    private static readonly UTF8Encoding s_strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Checks received bytes; throws a protocol error naming the field and offset.</summary>
    public static void Validate(ReadOnlySpan<byte> value, string field, int offset)
    {
        if (!Utf8.IsValid(value))
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidUtf8String, $"String {field} at offset {offset} is not well-formed UTF-8.", MqttReasonCode.MalformedPacket);
        }

        if (value.IndexOf((byte)0) >= 0)
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidUtf8String, $"String {field} at offset {offset} contains U+0000.", MqttReasonCode.MalformedPacket);
        }
    }

    /// <summary>Decodes bytes already checked by <see cref="Validate"/>.</summary>
    public static string GetString(ReadOnlySpan<byte> value) => value.IsEmpty ? string.Empty : s_strict.GetString(value);

    /// <summary>
    /// The UTF-8 byte count of a string to be sent; throws <see cref="MqttProtocolException"/> when
    /// it contains U+0000 or a lone surrogate or is longer than 65,535 bytes.
    /// </summary>
    public static int GetByteCount(string value, string field)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidUtf8String, $"String {field} contains U+0000, which MQTT forbids.");
        }

        int count;
        try
        {
            count = s_strict.GetByteCount(value);
        }
        catch (EncoderFallbackException exception)
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidUtf8String, $"String {field} contains a lone surrogate and cannot be encoded as UTF-8.", null, exception);
        }

        if (count > MaxByteCount)
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidUtf8String, $"String {field} is {count} UTF-8 bytes; MQTT strings are at most {MaxByteCount}.");
        }

        return count;
    }

    /// <summary>Encodes a string already measured with <see cref="GetByteCount"/>.</summary>
    public static int Encode(string value, Span<byte> destination)
    {
        OperationStatus status = Utf8.FromUtf16(value, destination, out _, out int written, replaceInvalidSequences: false);
        if (status != OperationStatus.Done)
        {
            MqttThrow.Malformed($"Could not encode a string as UTF-8 ({status}).");
        }

        return written;
    }
}
