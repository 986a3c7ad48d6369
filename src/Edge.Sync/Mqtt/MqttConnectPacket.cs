namespace CortexEdge.Sync.Mqtt;

/// <summary>CONNECT: the first packet a client sends.</summary>
internal sealed class MqttConnectPacket
{
    public MqttProtocolVersion ProtocolVersion { get; set; } = MqttProtocolVersion.V500;

    public string ClientId { get; set; } = string.Empty;

    /// <summary>Clean Session (3.1.1) or Clean Start (5.0).</summary>
    public bool CleanStart { get; set; } = true;

    public ushort KeepAliveSeconds { get; set; }

    public string? Username { get; set; }

    public ReadOnlyMemory<byte>? Password { get; set; }

    public MqttWillMessage? Will { get; set; }

    // MQTT 5.0 properties.
    public uint SessionExpiryIntervalSeconds { get; set; }

    /// <summary>0 = absent (65,535).</summary>
    public ushort ReceiveMaximum { get; set; }

    /// <summary>0 = absent (no limit).</summary>
    public uint MaximumPacketSize { get; set; }

    public ushort TopicAliasMaximum { get; set; }

    public bool? RequestProblemInformation { get; set; }

    public bool? RequestResponseInformation { get; set; }

    public string? AuthenticationMethod { get; set; }

    public ReadOnlyMemory<byte>? AuthenticationData { get; set; }

    public IReadOnlyList<MqttUserProperty>? UserProperties { get; set; }
}
