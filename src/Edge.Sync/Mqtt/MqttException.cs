namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Base of every error the MQTT client raises on purpose. <see cref="Code"/> says what went wrong;
/// <see cref="ReasonCode"/> carries the broker's own reason where the broker gave one. Bytes that
/// break the protocol raise <see cref="MqttProtocolException"/>; a failing link raises
/// <see cref="MqttTransportException"/>.
/// </summary>
public class MqttException : Exception
{
    /// <summary>Creates an error with a code, a message and, if the broker gave one, its reason code.</summary>
    public MqttException(MqttErrorCode code, string message, MqttReasonCode? reasonCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        ReasonCode = reasonCode;
    }

    /// <summary>What went wrong.</summary>
    public MqttErrorCode Code { get; }

    /// <summary>
    /// The broker's reason code (MQTT 5, or a 3.1.1 CONNACK return code mapped to its MQTT 5
    /// equivalent), or null when the broker gave none.
    /// </summary>
    public MqttReasonCode? ReasonCode { get; }
}
