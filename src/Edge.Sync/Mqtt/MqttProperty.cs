namespace CortexEdge.Sync.Mqtt;

/// <summary>One decoded MQTT 5.0 property; which member holds the value depends on the identifier.</summary>
internal readonly ref struct MqttProperty
{
    public MqttProperty(MqttPropertyId id, uint integer, ReadOnlySpan<byte> data, ReadOnlySpan<byte> data2)
    {
        Id = id;
        Integer = integer;
        Data = data;
        Data2 = data2;
    }

    public MqttPropertyId Id { get; }

    /// <summary>Byte, two-byte, four-byte and variable byte integer values.</summary>
    public uint Integer { get; }

    /// <summary>UTF-8 string or binary values; the name of a user property.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>The value of a user property.</summary>
    public ReadOnlySpan<byte> Data2 { get; }

    public string String => MqttUtf8.GetString(Data);

    public MqttUserProperty UserProperty => new(MqttUtf8.GetString(Data), MqttUtf8.GetString(Data2));
}
