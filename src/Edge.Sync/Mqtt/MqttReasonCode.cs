namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// MQTT 5.0 reason codes. MQTT 3.1.1 CONNACK return codes and the SUBACK failure code are mapped
/// to their MQTT 5.0 equivalents so one enum describes every broker answer. Values of 0x80 and
/// above are failures.
/// </summary>
public enum MqttReasonCode : byte
{
    /// <summary>Success; also Normal disconnection and Granted QoS 0.</summary>
    Success = 0x00,

    /// <summary>Subscription granted at QoS 1.</summary>
    GrantedQoS1 = 0x01,

    /// <summary>Subscription granted at QoS 2.</summary>
    GrantedQoS2 = 0x02,

    /// <summary>Disconnect and have the broker publish the Will.</summary>
    DisconnectWithWillMessage = 0x04,

    /// <summary>The publish was accepted but nobody is subscribed.</summary>
    NoMatchingSubscribers = 0x10,

    /// <summary>Unsubscribe: no such subscription existed.</summary>
    NoSubscriptionExisted = 0x11,

    /// <summary>Continue the authentication exchange.</summary>
    ContinueAuthentication = 0x18,

    /// <summary>Start re-authentication.</summary>
    ReAuthenticate = 0x19,

    /// <summary>Unspecified error (also the 3.1.1 SUBACK failure code).</summary>
    UnspecifiedError = 0x80,

    /// <summary>The packet could not be parsed.</summary>
    MalformedPacket = 0x81,

    /// <summary>The packet broke the protocol.</summary>
    ProtocolError = 0x82,

    /// <summary>The packet is valid but the receiver will not accept it.</summary>
    ImplementationSpecificError = 0x83,

    /// <summary>The broker does not support the protocol level (3.1.1 return code 1).</summary>
    UnsupportedProtocolVersion = 0x84,

    /// <summary>The client identifier is not allowed (3.1.1 return code 2).</summary>
    ClientIdentifierNotValid = 0x85,

    /// <summary>The user name or password is wrong (3.1.1 return code 4).</summary>
    BadUserNameOrPassword = 0x86,

    /// <summary>The client is not authorized (3.1.1 return code 5).</summary>
    NotAuthorized = 0x87,

    /// <summary>The broker is unavailable (3.1.1 return code 3).</summary>
    ServerUnavailable = 0x88,

    /// <summary>The broker is busy.</summary>
    ServerBusy = 0x89,

    /// <summary>The client is banned.</summary>
    Banned = 0x8A,

    /// <summary>The broker is shutting down.</summary>
    ServerShuttingDown = 0x8B,

    /// <summary>The authentication method is not supported.</summary>
    BadAuthenticationMethod = 0x8C,

    /// <summary>The keep-alive expired.</summary>
    KeepAliveTimeout = 0x8D,

    /// <summary>Another connection with the same client identifier took over the session.</summary>
    SessionTakenOver = 0x8E,

    /// <summary>The topic filter is well formed but not accepted.</summary>
    TopicFilterInvalid = 0x8F,

    /// <summary>The topic name is well formed but not accepted.</summary>
    TopicNameInvalid = 0x90,

    /// <summary>The packet identifier is already in use.</summary>
    PacketIdentifierInUse = 0x91,

    /// <summary>The packet identifier is not known.</summary>
    PacketIdentifierNotFound = 0x92,

    /// <summary>More QoS 1/2 publishes in flight than Receive Maximum allows.</summary>
    ReceiveMaximumExceeded = 0x93,

    /// <summary>The topic alias is invalid.</summary>
    TopicAliasInvalid = 0x94,

    /// <summary>The packet exceeded the maximum packet size.</summary>
    PacketTooLarge = 0x95,

    /// <summary>The message rate is too high.</summary>
    MessageRateTooHigh = 0x96,

    /// <summary>A quota was exceeded.</summary>
    QuotaExceeded = 0x97,

    /// <summary>The connection was closed by an administrator.</summary>
    AdministrativeAction = 0x98,

    /// <summary>The payload does not match its format indicator.</summary>
    PayloadFormatInvalid = 0x99,

    /// <summary>The broker does not support retained messages.</summary>
    RetainNotSupported = 0x9A,

    /// <summary>The broker does not support the requested QoS.</summary>
    QoSNotSupported = 0x9B,

    /// <summary>The client should temporarily use another broker.</summary>
    UseAnotherServer = 0x9C,

    /// <summary>The client should permanently use another broker.</summary>
    ServerMoved = 0x9D,

    /// <summary>Shared subscriptions are not supported.</summary>
    SharedSubscriptionsNotSupported = 0x9E,

    /// <summary>The connection rate limit was exceeded.</summary>
    ConnectionRateExceeded = 0x9F,

    /// <summary>The maximum connection time was reached.</summary>
    MaximumConnectTime = 0xA0,

    /// <summary>Subscription identifiers are not supported.</summary>
    SubscriptionIdentifiersNotSupported = 0xA1,

    /// <summary>Wildcard subscriptions are not supported.</summary>
    WildcardSubscriptionsNotSupported = 0xA2,
}
