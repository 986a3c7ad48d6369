namespace CortexEdge.Sync.Mqtt;

/// <summary>The fixed header of a control packet: type, flags and remaining length.</summary>
internal readonly struct MqttFixedHeader
{
    public MqttFixedHeader(MqttPacketType type, byte flags, int remainingLength, int headerLength)
    {
        Type = type;
        Flags = flags;
        RemainingLength = remainingLength;
        HeaderLength = headerLength;
    }

    public MqttPacketType Type { get; }

    /// <summary>The low nibble of the first byte.</summary>
    public byte Flags { get; }

    public int RemainingLength { get; }

    /// <summary>Bytes of the fixed header itself (2 to 5).</summary>
    public int HeaderLength { get; }

    public int TotalLength => HeaderLength + RemainingLength;
}
