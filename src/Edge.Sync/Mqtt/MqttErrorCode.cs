namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Stable, machine-readable codes of the MQTT client's errors, in ranges of 100 per kind:
/// protocol (bytes that break the MQTT rules), transport (the link), broker refusals (the broker
/// answered "no"), and client usage or state. Values appear in logs; never renumber them.
/// </summary>
public enum MqttErrorCode
{
    /// <summary>No specific code.</summary>
    Unknown = 0,

    // 100-199: protocol violations (codec and connection)
    /// <summary>A packet's bytes do not follow the MQTT encoding rules.</summary>
    MalformedPacket = 100,

    /// <summary>A packet is larger than the maximum packet size in force.</summary>
    PacketTooLarge = 101,

    /// <summary>A string is not well-formed UTF-8, contains U+0000, or is longer than 65,535 bytes.</summary>
    InvalidUtf8String = 102,

    /// <summary>A topic name is empty, contains a wildcard, or is otherwise invalid.</summary>
    InvalidTopicName = 103,

    /// <summary>A topic filter misplaces a wildcard or is otherwise invalid.</summary>
    InvalidTopicFilter = 104,

    /// <summary>A property is unknown, duplicated, of the wrong type, or not allowed in its packet.</summary>
    InvalidProperty = 105,

    /// <summary>The peer sent a well-formed packet that the protocol does not allow at that point.</summary>
    ProtocolViolation = 106,

    // 200-299: transport failures
    /// <summary>The TCP connection to the broker could not be opened.</summary>
    ConnectFailed = 200,

    /// <summary>An established connection broke (reset, closed, write or read failure).</summary>
    ConnectionLost = 201,

    /// <summary>The broker did not answer within the keep-alive rules; the link is considered dead.</summary>
    KeepAliveTimeout = 202,

    /// <summary>The TLS handshake failed (untrusted certificate, name mismatch, client certificate refused).</summary>
    TlsFailed = 203,

    /// <summary>The broker did not answer CONNECT within the connect timeout.</summary>
    ConnectTimeout = 204,

    // 300-399: broker refusals
    /// <summary>The broker refused the connection; <see cref="MqttException.ReasonCode"/> says why.</summary>
    ConnectionRefused = 300,

    /// <summary>The broker refused a subscription; <see cref="MqttException.ReasonCode"/> says why.</summary>
    SubscribeRefused = 301,

    /// <summary>The broker refused a QoS 1 or 2 publish (MQTT 5 reason code of 0x80 or above).</summary>
    PublishRefused = 302,

    /// <summary>The broker refused an unsubscribe (MQTT 5 reason code of 0x80 or above).</summary>
    UnsubscribeRefused = 303,

    /// <summary>The broker closed the connection with an MQTT 5 DISCONNECT carrying an error reason.</summary>
    DisconnectedByBroker = 304,

    // 400-499: client usage and state
    /// <summary>The operation needs a connection and the client has never connected or was disconnected on purpose.</summary>
    NotConnected = 400,

    /// <summary>The bounded outgoing queue is full; the publish was not accepted.</summary>
    OutgoingQueueFull = 401,

    /// <summary>The client was disposed or disconnected while the operation was pending.</summary>
    ClientClosed = 402,

    /// <summary>Automatic reconnection gave up after its configured number of attempts.</summary>
    ReconnectAttemptsExhausted = 403,

    /// <summary>The broker does not support what was asked (a QoS above its maximum, retained messages).</summary>
    NotSupportedByBroker = 404,

    /// <summary>An option or argument is out of its allowed range.</summary>
    InvalidOptions = 405,

    /// <summary>An operation was issued while an incompatible one is under way (e.g. a second ConnectAsync).</summary>
    InvalidState = 406,

    /// <summary>The broker did not acknowledge a subscribe or unsubscribe within the acknowledgement timeout.</summary>
    AcknowledgementTimeout = 407,
}
