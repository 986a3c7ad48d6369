namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// The Last Will: a message the broker publishes on the client's behalf when the connection ends
/// without a clean DISCONNECT (a crash, a dropped link, a keep-alive timeout). A retained Will on a
/// presence topic marks a device offline.
/// </summary>
public sealed class MqttWillMessage
{
    /// <summary>Creates a Will for <paramref name="topic"/> (a valid topic name, no wildcards).</summary>
    public MqttWillMessage(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qualityOfService = MqttQualityOfService.AtLeastOnce, bool retain = false)
    {
        MqttTopic.ValidateTopicName(topic);
        Topic = topic;
        Payload = payload;
        QualityOfService = qualityOfService;
        Retain = retain;
    }

    /// <summary>Topic the Will is published to.</summary>
    public string Topic { get; }

    /// <summary>Payload of the Will.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>QoS of the Will.</summary>
    public MqttQualityOfService QualityOfService { get; }

    /// <summary>Whether the broker retains the Will on its topic.</summary>
    public bool Retain { get; }

    /// <summary>MQTT 5.0: seconds the broker waits before publishing the Will (0 = at once).</summary>
    public uint DelayIntervalSeconds { get; init; }

    /// <summary>MQTT 5.0 message properties of the Will.</summary>
    public MqttPublishProperties? Properties { get; init; }
}
