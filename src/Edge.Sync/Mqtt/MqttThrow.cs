using System.Diagnostics.CodeAnalysis;

namespace CortexEdge.Sync.Mqtt;

/// <summary>Throw helpers kept out of line so the codec's hot paths stay small.</summary>
internal static class MqttThrow
{
    [DoesNotReturn]
    public static void Malformed(string message) =>
        throw new MqttProtocolException(MqttErrorCode.MalformedPacket, message, MqttReasonCode.MalformedPacket);

    [DoesNotReturn]
    public static T Malformed<T>(string message) =>
        throw new MqttProtocolException(MqttErrorCode.MalformedPacket, message, MqttReasonCode.MalformedPacket);

    [DoesNotReturn]
    public static void Truncated(string field, int offset, int needed, int available) =>
        throw new MqttProtocolException(
            MqttErrorCode.MalformedPacket,
            $"Packet ends inside {field}: {needed} byte(s) needed at offset {offset}, {available} available.",
            MqttReasonCode.MalformedPacket);

    [DoesNotReturn]
    public static void Protocol(MqttErrorCode code, string message) =>
        throw new MqttProtocolException(code, message, MqttReasonCode.ProtocolError);

    [DoesNotReturn]
    public static void TooLarge(long size, long maximum, string who) =>
        throw new MqttProtocolException(
            MqttErrorCode.PacketTooLarge,
            $"Packet of {size} bytes exceeds the maximum packet size of {maximum} bytes ({who}).",
            MqttReasonCode.PacketTooLarge);

    [DoesNotReturn]
    public static void Options(string message) =>
        throw new MqttException(MqttErrorCode.InvalidOptions, message);
}
