namespace CortexEdge.Sync.Mqtt;

/// <summary>CONNACK: the broker's answer to CONNECT. 3.1.1 return codes are mapped to MQTT 5.0 reason codes.</summary>
internal sealed class MqttConnAckPacket
{
    public bool SessionPresent { get; set; }

    public MqttReasonCode ReasonCode { get; set; }

    /// <summary>The raw 3.1.1 return code (0-5), or the 5.0 reason code byte.</summary>
    public byte RawReturnCode { get; set; }

    public uint? SessionExpiryIntervalSeconds { get; set; }

    /// <summary>How many QoS 1/2 publishes the broker accepts in flight (65,535 when absent).</summary>
    public ushort ReceiveMaximum { get; set; } = ushort.MaxValue;

    public MqttQualityOfService MaximumQoS { get; set; } = MqttQualityOfService.ExactlyOnce;

    public bool RetainAvailable { get; set; } = true;

    /// <summary>Largest packet the broker accepts; null when the broker sets no limit.</summary>
    public uint? MaximumPacketSize { get; set; }

    public string? AssignedClientIdentifier { get; set; }

    public ushort TopicAliasMaximum { get; set; }

    public string? ReasonString { get; set; }

    public bool WildcardSubscriptionAvailable { get; set; } = true;

    public bool SubscriptionIdentifiersAvailable { get; set; } = true;

    public bool SharedSubscriptionAvailable { get; set; } = true;

    public ushort? ServerKeepAliveSeconds { get; set; }

    public string? ResponseInformation { get; set; }

    public string? ServerReference { get; set; }

    public string? AuthenticationMethod { get; set; }

    public byte[]? AuthenticationData { get; set; }

    public List<MqttUserProperty>? UserProperties { get; set; }

    /// <summary>Maps a 3.1.1 CONNACK return code to its MQTT 5.0 reason code.</summary>
    public static MqttReasonCode FromV311ReturnCode(byte returnCode) => returnCode switch
    {
        0 => MqttReasonCode.Success,
        1 => MqttReasonCode.UnsupportedProtocolVersion,
        2 => MqttReasonCode.ClientIdentifierNotValid,
        3 => MqttReasonCode.ServerUnavailable,
        4 => MqttReasonCode.BadUserNameOrPassword,
        5 => MqttReasonCode.NotAuthorized,
        _ => MqttThrow.Malformed<MqttReasonCode>($"CONNACK return code {returnCode} is not defined by MQTT 3.1.1."),
    };

    /// <summary>Maps an MQTT 5.0 reason code back to the 3.1.1 return code (for encoding under 3.1.1).</summary>
    public static byte ToV311ReturnCode(MqttReasonCode reasonCode) => reasonCode switch
    {
        MqttReasonCode.Success => 0,
        MqttReasonCode.UnsupportedProtocolVersion => 1,
        MqttReasonCode.ClientIdentifierNotValid => 2,
        MqttReasonCode.BadUserNameOrPassword => 4,
        MqttReasonCode.NotAuthorized => 5,
        _ => 3,
    };
}
