namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// SUBACK or UNSUBACK: one reason code per filter of the request (3.1.1 UNSUBACK has none; the
/// decoder leaves the list empty).
/// </summary>
internal sealed class MqttSubAckPacket
{
    public MqttPacketType Type { get; set; } = MqttPacketType.SubAck;

    public ushort PacketId { get; set; }

    public List<MqttReasonCode> ReasonCodes { get; set; } = [];

    public string? ReasonString { get; set; }

    public List<MqttUserProperty>? UserProperties { get; set; }
}
