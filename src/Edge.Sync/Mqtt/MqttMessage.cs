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
    private bool _acknowledgementLost;

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
    /// called again). While the client is reconnecting the PUBACK goes out when the broker
    /// redelivers the message, which the application then does not receive a second time. Returns
    /// false when it can no longer be sent: the client was disposed, or reconnected to a broker that
    /// had lost the session (a broker keeping the session redelivers the message to the next one).
    /// </summary>
    public bool Acknowledge()
    {
        if (Interlocked.Exchange(ref _acknowledgement, null) is { } owed && !owed.Client.SendDeferredAck(owed.PacketId))
        {
            _acknowledgementLost = true;
        }

        return !_acknowledgementLost;
    }

    /// <summary>Owed by messages of a client with manual acknowledgement: the packet id to acknowledge.</summary>
    internal void OweAcknowledgement(MqttClient client, ushort packetId) => _acknowledgement = new(client, packetId);

    /// <summary>The payload decoded as UTF-8.</summary>
    public string GetPayloadAsString() => Encoding.UTF8.GetString(Payload.Span);

    private sealed record DeferredAck(MqttClient Client, ushort PacketId);
}
