namespace CortexEdge.Sync.Mqtt;

/// <summary>Writes MQTT 5.0 properties (identifier then value) into a buffer; the caller prefixes the block length.</summary>
internal static class MqttPropertyWriter
{
    public static void WriteByte(MqttBufferWriter writer, MqttPropertyId id, byte value)
    {
        writer.WriteByte((byte)id);
        writer.WriteByte(value);
    }

    public static void WriteUInt16(MqttBufferWriter writer, MqttPropertyId id, ushort value)
    {
        writer.WriteByte((byte)id);
        writer.WriteUInt16(value);
    }

    public static void WriteUInt32(MqttBufferWriter writer, MqttPropertyId id, uint value)
    {
        writer.WriteByte((byte)id);
        writer.WriteUInt32(value);
    }

    public static void WriteVariableByteInteger(MqttBufferWriter writer, MqttPropertyId id, int value)
    {
        writer.WriteByte((byte)id);
        writer.WriteVariableByteInteger(value);
    }

    public static void WriteString(MqttBufferWriter writer, MqttPropertyId id, string? value)
    {
        if (value is null)
        {
            return;
        }

        writer.WriteByte((byte)id);
        writer.WriteString(value, id.ToString());
    }

    public static void WriteBinary(MqttBufferWriter writer, MqttPropertyId id, ReadOnlyMemory<byte>? value)
    {
        if (value is null)
        {
            return;
        }

        writer.WriteByte((byte)id);
        writer.WriteBinary(value.Value.Span, id.ToString());
    }

    // A separate overload for arrays: a null byte[] would otherwise convert to a non-null empty ReadOnlyMemory.
    public static void WriteBinary(MqttBufferWriter writer, MqttPropertyId id, byte[]? value)
    {
        if (value is null)
        {
            return;
        }

        writer.WriteByte((byte)id);
        writer.WriteBinary(value, id.ToString());
    }

    public static void WriteUserProperties(MqttBufferWriter writer, IReadOnlyList<MqttUserProperty>? properties)
    {
        if (properties is null)
        {
            return;
        }

        for (int i = 0; i < properties.Count; i++)
        {
            writer.WriteByte((byte)MqttPropertyId.UserProperty);
            writer.WriteString(properties[i].Name, "user property name");
            writer.WriteString(properties[i].Value, "user property value");
        }
    }

    /// <summary>Appends a property block (length prefix then the properties written in <paramref name="block"/>).</summary>
    public static void WriteBlock(MqttBufferWriter writer, MqttBufferWriter block)
    {
        writer.WriteVariableByteInteger(block.Length);
        writer.WriteBytes(block.WrittenSpan);
    }
}
