namespace CortexEdge.Sync.Mqtt;

/// <summary>SUBSCRIBE: one or more topic filters with their options.</summary>
internal sealed class MqttSubscribePacket
{
    public ushort PacketId { get; set; }

    public List<MqttSubscription> Subscriptions { get; set; } = [];

    /// <summary>MQTT 5.0 subscription identifier; 0 = none.</summary>
    public int SubscriptionIdentifier { get; set; }

    public IReadOnlyList<MqttUserProperty>? UserProperties { get; set; }
}
