namespace CortexEdge.Sync.Mqtt;

/// <summary>PUBACK, PUBREC, PUBREL or PUBCOMP: a packet identifier and, under 5.0, a reason.</summary>
internal readonly struct MqttAckPacket
{
    public MqttAckPacket(MqttPacketType type, ushort packetId, MqttReasonCode reasonCode, string? reasonString = null)
    {
        Type = type;
        PacketId = packetId;
        ReasonCode = reasonCode;
        ReasonString = reasonString;
    }

    public MqttPacketType Type { get; }

    public ushort PacketId { get; }

    public MqttReasonCode ReasonCode { get; }

    public string? ReasonString { get; }
}
