namespace CortexEdge.Sync.Mqtt;

/// <summary>DISCONNECT (client to broker in 3.1.1; both directions in 5.0) or AUTH (5.0).</summary>
internal sealed class MqttDisconnectPacket
{
    public MqttPacketType Type { get; set; } = MqttPacketType.Disconnect;

    public MqttReasonCode ReasonCode { get; set; }

    public uint? SessionExpiryIntervalSeconds { get; set; }

    public string? ReasonString { get; set; }

    public string? ServerReference { get; set; }

    /// <summary>AUTH only.</summary>
    public string? AuthenticationMethod { get; set; }

    /// <summary>AUTH only.</summary>
    public byte[]? AuthenticationData { get; set; }

    public List<MqttUserProperty>? UserProperties { get; set; }
}
