namespace CortexEdge.Sync.Mqtt;

/// <summary>UNSUBSCRIBE: one or more topic filters to remove.</summary>
internal sealed class MqttUnsubscribePacket
{
    public ushort PacketId { get; set; }

    public List<string> TopicFilters { get; set; } = [];

    public IReadOnlyList<MqttUserProperty>? UserProperties { get; set; }
}
