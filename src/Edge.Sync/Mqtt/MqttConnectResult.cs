namespace CortexEdge.Sync.Mqtt;

/// <summary>What the broker granted at CONNECT.</summary>
public sealed class MqttConnectResult
{
    internal MqttConnectResult(MqttProtocolVersion version, MqttConnAckPacket connAck, string clientId, TimeSpan keepAlive)
    {
        ProtocolVersion = version;
        SessionPresent = connAck.SessionPresent;
        ClientId = clientId;
        KeepAlive = keepAlive;
        ReceiveMaximum = connAck.ReceiveMaximum;
        MaximumQualityOfService = connAck.MaximumQoS;
        RetainAvailable = connAck.RetainAvailable;
        MaximumPacketSize = connAck.MaximumPacketSize;
        ReasonString = connAck.ReasonString;
        UserProperties = connAck.UserProperties ?? (IReadOnlyList<MqttUserProperty>)[];
    }

    /// <summary>Protocol level in use (5.0, or 3.1.1 after a fallback or when asked for).</summary>
    public MqttProtocolVersion ProtocolVersion { get; }

    /// <summary>True when the broker resumed a stored session.</summary>
    public bool SessionPresent { get; }

    /// <summary>The client identifier in use (assigned by the broker when the client sent an empty one).</summary>
    public string ClientId { get; }

    /// <summary>Keep-alive in force (the broker's Server Keep Alive overrides the client's).</summary>
    public TimeSpan KeepAlive { get; }

    /// <summary>QoS 1/2 publishes the broker accepts in flight.</summary>
    public ushort ReceiveMaximum { get; }

    /// <summary>Highest QoS the broker accepts from this client.</summary>
    public MqttQualityOfService MaximumQualityOfService { get; }

    /// <summary>Whether the broker supports retained messages.</summary>
    public bool RetainAvailable { get; }

    /// <summary>Largest packet the broker accepts, in bytes; null for no stated limit.</summary>
    public uint? MaximumPacketSize { get; }

    /// <summary>The broker's reason string, if any.</summary>
    public string? ReasonString { get; }

    /// <summary>The broker's user properties in CONNACK.</summary>
    public IReadOnlyList<MqttUserProperty> UserProperties { get; }
}
