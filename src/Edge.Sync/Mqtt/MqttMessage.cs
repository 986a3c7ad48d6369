using System.Text;

namespace CortexEdge.Sync.Mqtt;

/// <summary>A message received from the broker. Immutable; the payload is owned by the message.</summary>
public sealed class MqttMessage
{
    internal MqttMessage(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qualityOfService, bool retain, bool dup, MqttPublishProperties? properties)
    {
        Topic = topic;
        Payload = payload;
        QualityOfService = qualityOfService;
        Retain = retain;
        Dup = dup;
        Properties = properties;
    }

    /// <summary>Topic name the message was published to.</summary>
    public string Topic { get; }

    /// <summary>Payload bytes.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>QoS the message was delivered with (the lower of publish and subscription QoS).</summary>
    public MqttQualityOfService QualityOfService { get; }

    /// <summary>True when the broker sent it as a retained message (at subscribe time, or as published when RetainAsPublished).</summary>
    public bool Retain { get; }

    /// <summary>True when the broker marked it as a possible redelivery. QoS 1 duplicates are delivered; QoS 2 duplicates are filtered.</summary>
    public bool Dup { get; }

    /// <summary>MQTT 5.0 properties, or null when none were sent.</summary>
    public MqttPublishProperties? Properties { get; }

    /// <summary>The payload decoded as UTF-8.</summary>
    public string GetPayloadAsString() => Encoding.UTF8.GetString(Payload.Span);
}
