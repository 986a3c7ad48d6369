namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Bytes or values that break the MQTT rules: a malformed or oversized packet, an invalid string,
/// topic or property, or a packet the protocol does not allow at that point. Raised by the codec
/// for bad input and by the connection when the broker misbehaves (the connection is then closed).
/// </summary>
public sealed class MqttProtocolException : MqttException
{
    /// <summary>Creates a protocol error; the message should name the field, offset or limit involved.</summary>
    public MqttProtocolException(MqttErrorCode code, string message, MqttReasonCode? reasonCode = null, Exception? innerException = null)
        : base(code, message, reasonCode, innerException)
    {
    }
}
