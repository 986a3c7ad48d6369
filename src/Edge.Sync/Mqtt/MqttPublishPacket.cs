namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// A decoded PUBLISH as a view over the received bytes: nothing is copied or allocated until the
/// caller asks for the topic string, the payload array or the properties.
/// </summary>
internal readonly ref struct MqttPublishPacket
{
    public MqttPublishPacket(ReadOnlySpan<byte> topic, ushort packetId, MqttQualityOfService qos, bool dup, bool retain, ReadOnlySpan<byte> properties, ReadOnlySpan<byte> payload)
    {
        TopicUtf8 = topic;
        PacketId = packetId;
        QualityOfService = qos;
        Dup = dup;
        Retain = retain;
        PropertyBlock = properties;
        Payload = payload;
    }

    /// <summary>Topic name bytes, already checked as UTF-8 without wildcards; may be empty when a topic alias is used.</summary>
    public ReadOnlySpan<byte> TopicUtf8 { get; }

    /// <summary>0 for QoS 0.</summary>
    public ushort PacketId { get; }

    public MqttQualityOfService QualityOfService { get; }

    public bool Dup { get; }

    public bool Retain { get; }

    /// <summary>The raw MQTT 5.0 property block (without its length prefix), already validated; empty under 3.1.1.</summary>
    public ReadOnlySpan<byte> PropertyBlock { get; }

    public ReadOnlySpan<byte> Payload { get; }

    public string Topic => MqttUtf8.GetString(TopicUtf8);
}
