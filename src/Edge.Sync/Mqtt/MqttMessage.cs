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

    private DeferredAck? _acknowledgement;
    private int _acknowledgementTaken;

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

    /// <summary>
    /// Sends this message's PUBACK when the client was created with
    /// <see cref="MqttClientOptions.ManualAcknowledgement"/> (and does nothing otherwise, or when
    /// called again). Returns false when the connection the message arrived on has closed: the
    /// acknowledgement cannot be sent, and a broker holding a persistent session redelivers the message.
    /// </summary>
    public bool Acknowledge()
    {
        if (_acknowledgement is not { } acknowledgement || Interlocked.Exchange(ref _acknowledgementTaken, 1) != 0)
        {
            return true;
        }

        return acknowledgement.Client.SendDeferredAck(acknowledgement.Link, acknowledgement.PacketId);
    }

    /// <summary>Owed by messages of a client with manual acknowledgement: which link and packet id to acknowledge.</summary>
    internal void OweAcknowledgement(MqttClient client, MqttLink link, ushort packetId) => _acknowledgement = new(client, link, packetId);

    /// <summary>The payload decoded as UTF-8.</summary>
    public string GetPayloadAsString() => Encoding.UTF8.GetString(Payload.Span);

    private sealed record DeferredAck(MqttClient Client, MqttLink Link, ushort PacketId);
}
