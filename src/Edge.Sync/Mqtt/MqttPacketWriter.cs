using System.Buffers.Binary;

namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Encodes MQTT control packets. Pure: no I/O, no state. PUBLISH and the acknowledgements are
/// written straight into a caller's span after measuring (no allocation); the rarer packets go
/// through a pooled <see cref="MqttBufferWriter"/>. Values a sender must not send (invalid
/// strings, topics, QoS) throw <see cref="MqttProtocolException"/> before anything is written.
/// </summary>
internal static class MqttPacketWriter
{
    /// <summary>Size of a complete PUBLISH packet; <paramref name="propertyBlockLength"/> excludes its own length prefix.</summary>
    public static long GetPublishSize(int topicByteCount, int payloadLength, MqttQualityOfService qos, MqttProtocolVersion version, int propertyBlockLength)
    {
        long remaining = GetPublishRemainingLength(topicByteCount, payloadLength, qos, version, propertyBlockLength);
        return 1 + (remaining > MqttVariableByteInteger.MaxValue ? 5 : MqttVariableByteInteger.GetLength((int)remaining)) + remaining;
    }

    /// <summary>
    /// Writes a PUBLISH into <paramref name="destination"/>, which must hold
    /// <see cref="GetPublishSize"/> bytes. The topic must already be validated and measured.
    /// Returns the bytes written.
    /// </summary>
    public static int WritePublish(
        Span<byte> destination,
        string topic,
        int topicByteCount,
        ReadOnlySpan<byte> payload,
        MqttQualityOfService qos,
        bool retain,
        bool dup,
        ushort packetId,
        MqttProtocolVersion version,
        ReadOnlySpan<byte> propertyBlock)
    {
        long remaining = GetPublishRemainingLength(topicByteCount, payload.Length, qos, version, propertyBlock.Length);
        if (remaining > MqttVariableByteInteger.MaxValue)
        {
            MqttThrow.TooLarge(remaining, MqttVariableByteInteger.MaxValue, "the MQTT remaining-length limit");
        }

        if (qos != MqttQualityOfService.AtMostOnce && packetId == 0)
        {
            MqttThrow.Options("A QoS 1 or 2 PUBLISH needs a non-zero packet identifier.");
        }

        int flags = ((int)qos << 1) | (retain ? 1 : 0) | (dup && qos != MqttQualityOfService.AtMostOnce ? 0x08 : 0);
        destination[0] = (byte)(((int)MqttPacketType.Publish << 4) | flags);
        int position = 1 + MqttVariableByteInteger.Write(destination[1..], (int)remaining);
        BinaryPrimitives.WriteUInt16BigEndian(destination[position..], (ushort)topicByteCount);
        position += 2;
        position += MqttUtf8.Encode(topic, destination.Slice(position, topicByteCount));
        if (qos != MqttQualityOfService.AtMostOnce)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[position..], packetId);
            position += 2;
        }

        if (version == MqttProtocolVersion.V500)
        {
            position += MqttVariableByteInteger.Write(destination[position..], propertyBlock.Length);
            propertyBlock.CopyTo(destination[position..]);
            position += propertyBlock.Length;
        }

        payload.CopyTo(destination[position..]);
        return position + payload.Length;
    }

    /// <summary>Largest acknowledgement <see cref="WriteAck"/> writes.</summary>
    public const int AckSizeMax = 5;

    /// <summary>Writes PUBACK, PUBREC, PUBREL or PUBCOMP (5.0: the reason code only when not Success). Returns the bytes written.</summary>
    public static int WriteAck(Span<byte> destination, MqttPacketType type, ushort packetId, MqttReasonCode reasonCode, MqttProtocolVersion version)
    {
        bool withReason = version == MqttProtocolVersion.V500 && reasonCode != MqttReasonCode.Success;
        destination[0] = (byte)(((int)type << 4) | (type == MqttPacketType.PubRel ? 0x02 : 0));
        destination[1] = (byte)(withReason ? 3 : 2);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], packetId);
        if (withReason)
        {
            destination[4] = (byte)reasonCode;
            return 5;
        }

        return 4;
    }

    /// <summary>Writes PINGREQ or PINGRESP (2 bytes).</summary>
    public static int WritePing(Span<byte> destination, MqttPacketType type)
    {
        destination[0] = (byte)((int)type << 4);
        destination[1] = 0;
        return 2;
    }

    public static void WriteConnect(MqttBufferWriter output, MqttConnectPacket packet)
    {
        using var body = new MqttBufferWriter();
        body.WriteString("MQTT", "protocol name");
        body.WriteByte((byte)packet.ProtocolVersion);
        bool v5 = packet.ProtocolVersion == MqttProtocolVersion.V500;
        if (packet.Password is not null && packet.Username is null && !v5)
        {
            MqttThrow.Options("MQTT 3.1.1 does not allow a password without a user name.");
        }

        int flags = (packet.CleanStart ? 0x02 : 0) | (packet.Username is not null ? 0x80 : 0) | (packet.Password is not null ? 0x40 : 0);
        if (packet.Will is MqttWillMessage will)
        {
            flags |= 0x04 | ((int)will.QualityOfService << 3) | (will.Retain ? 0x20 : 0);
        }

        body.WriteByte((byte)flags);
        body.WriteUInt16(packet.KeepAliveSeconds);
        if (v5)
        {
            using var block = new MqttBufferWriter();
            if (packet.SessionExpiryIntervalSeconds != 0)
            {
                MqttPropertyWriter.WriteUInt32(block, MqttPropertyId.SessionExpiryInterval, packet.SessionExpiryIntervalSeconds);
            }

            if (packet.ReceiveMaximum != 0)
            {
                MqttPropertyWriter.WriteUInt16(block, MqttPropertyId.ReceiveMaximum, packet.ReceiveMaximum);
            }

            if (packet.MaximumPacketSize != 0)
            {
                MqttPropertyWriter.WriteUInt32(block, MqttPropertyId.MaximumPacketSize, packet.MaximumPacketSize);
            }

            if (packet.TopicAliasMaximum != 0)
            {
                MqttPropertyWriter.WriteUInt16(block, MqttPropertyId.TopicAliasMaximum, packet.TopicAliasMaximum);
            }

            if (packet.RequestResponseInformation is bool responseInformation)
            {
                MqttPropertyWriter.WriteByte(block, MqttPropertyId.RequestResponseInformation, responseInformation ? (byte)1 : (byte)0);
            }

            if (packet.RequestProblemInformation is bool problemInformation)
            {
                MqttPropertyWriter.WriteByte(block, MqttPropertyId.RequestProblemInformation, problemInformation ? (byte)1 : (byte)0);
            }

            MqttPropertyWriter.WriteUserProperties(block, packet.UserProperties);
            MqttPropertyWriter.WriteString(block, MqttPropertyId.AuthenticationMethod, packet.AuthenticationMethod);
            MqttPropertyWriter.WriteBinary(block, MqttPropertyId.AuthenticationData, packet.AuthenticationData);
            MqttPropertyWriter.WriteBlock(body, block);
        }

        body.WriteString(packet.ClientId, "client identifier");
        if (packet.Will is MqttWillMessage w)
        {
            if (v5)
            {
                using var block = new MqttBufferWriter();
                if (w.DelayIntervalSeconds != 0)
                {
                    MqttPropertyWriter.WriteUInt32(block, MqttPropertyId.WillDelayInterval, w.DelayIntervalSeconds);
                }

                w.Properties?.Write(block);
                MqttPropertyWriter.WriteBlock(body, block);
            }

            body.WriteString(w.Topic, "will topic");
            body.WriteBinary(w.Payload.Span, "will payload");
        }

        if (packet.Username is not null)
        {
            body.WriteString(packet.Username, "user name");
        }

        if (packet.Password is ReadOnlyMemory<byte> password)
        {
            body.WriteBinary(password.Span, "password");
        }

        WriteFrame(output, MqttPacketType.Connect, 0, body);
    }

    public static void WriteConnAck(MqttBufferWriter output, MqttConnAckPacket packet, MqttProtocolVersion version)
    {
        using var body = new MqttBufferWriter();
        body.WriteByte(packet.SessionPresent ? (byte)1 : (byte)0);
        if (version == MqttProtocolVersion.V311)
        {
            body.WriteByte(MqttConnAckPacket.ToV311ReturnCode(packet.ReasonCode));
        }
        else
        {
            body.WriteByte((byte)packet.ReasonCode);
            using var block = new MqttBufferWriter();
            if (packet.SessionExpiryIntervalSeconds is uint expiry)
            {
                MqttPropertyWriter.WriteUInt32(block, MqttPropertyId.SessionExpiryInterval, expiry);
            }

            if (packet.ReceiveMaximum != ushort.MaxValue)
            {
                MqttPropertyWriter.WriteUInt16(block, MqttPropertyId.ReceiveMaximum, packet.ReceiveMaximum);
            }

            if (packet.MaximumQoS != MqttQualityOfService.ExactlyOnce)
            {
                MqttPropertyWriter.WriteByte(block, MqttPropertyId.MaximumQoS, (byte)packet.MaximumQoS);
            }

            if (!packet.RetainAvailable)
            {
                MqttPropertyWriter.WriteByte(block, MqttPropertyId.RetainAvailable, 0);
            }

            if (packet.MaximumPacketSize is uint maximum)
            {
                MqttPropertyWriter.WriteUInt32(block, MqttPropertyId.MaximumPacketSize, maximum);
            }

            MqttPropertyWriter.WriteString(block, MqttPropertyId.AssignedClientIdentifier, packet.AssignedClientIdentifier);
            if (packet.TopicAliasMaximum != 0)
            {
                MqttPropertyWriter.WriteUInt16(block, MqttPropertyId.TopicAliasMaximum, packet.TopicAliasMaximum);
            }

            MqttPropertyWriter.WriteString(block, MqttPropertyId.ReasonString, packet.ReasonString);
            if (packet.ServerKeepAliveSeconds is ushort keepAlive)
            {
                MqttPropertyWriter.WriteUInt16(block, MqttPropertyId.ServerKeepAlive, keepAlive);
            }

            MqttPropertyWriter.WriteString(block, MqttPropertyId.ResponseInformation, packet.ResponseInformation);
            MqttPropertyWriter.WriteString(block, MqttPropertyId.ServerReference, packet.ServerReference);
            MqttPropertyWriter.WriteUserProperties(block, packet.UserProperties);
            MqttPropertyWriter.WriteBlock(body, block);
        }

        WriteFrame(output, MqttPacketType.ConnAck, 0, body);
    }

    public static void WriteSubscribe(MqttBufferWriter output, MqttSubscribePacket packet, MqttProtocolVersion version)
    {
        if (packet.Subscriptions.Count == 0)
        {
            MqttThrow.Options("SUBSCRIBE needs at least one topic filter.");
        }

        using var body = new MqttBufferWriter();
        body.WriteUInt16(packet.PacketId);
        if (version == MqttProtocolVersion.V500)
        {
            using var block = new MqttBufferWriter();
            if (packet.SubscriptionIdentifier != 0)
            {
                MqttPropertyWriter.WriteVariableByteInteger(block, MqttPropertyId.SubscriptionIdentifier, packet.SubscriptionIdentifier);
            }

            MqttPropertyWriter.WriteUserProperties(block, packet.UserProperties);
            MqttPropertyWriter.WriteBlock(body, block);
        }

        foreach (MqttSubscription subscription in packet.Subscriptions)
        {
            body.WriteString(subscription.TopicFilter, "topic filter");
            body.WriteByte(subscription.OptionsByte(version));
        }

        WriteFrame(output, MqttPacketType.Subscribe, 0x02, body);
    }

    /// <summary>Writes SUBACK or UNSUBACK (3.1.1 UNSUBACK carries no reason codes).</summary>
    public static void WriteSubAck(MqttBufferWriter output, MqttSubAckPacket packet, MqttProtocolVersion version)
    {
        using var body = new MqttBufferWriter();
        body.WriteUInt16(packet.PacketId);
        if (version == MqttProtocolVersion.V500)
        {
            using var block = new MqttBufferWriter();
            MqttPropertyWriter.WriteString(block, MqttPropertyId.ReasonString, packet.ReasonString);
            MqttPropertyWriter.WriteUserProperties(block, packet.UserProperties);
            MqttPropertyWriter.WriteBlock(body, block);
        }

        if (version == MqttProtocolVersion.V500 || packet.Type == MqttPacketType.SubAck)
        {
            foreach (MqttReasonCode code in packet.ReasonCodes)
            {
                body.WriteByte((byte)code);
            }
        }

        WriteFrame(output, packet.Type, 0, body);
    }

    public static void WriteUnsubscribe(MqttBufferWriter output, MqttUnsubscribePacket packet, MqttProtocolVersion version)
    {
        if (packet.TopicFilters.Count == 0)
        {
            MqttThrow.Options("UNSUBSCRIBE needs at least one topic filter.");
        }

        using var body = new MqttBufferWriter();
        body.WriteUInt16(packet.PacketId);
        if (version == MqttProtocolVersion.V500)
        {
            using var block = new MqttBufferWriter();
            MqttPropertyWriter.WriteUserProperties(block, packet.UserProperties);
            MqttPropertyWriter.WriteBlock(body, block);
        }

        foreach (string filter in packet.TopicFilters)
        {
            MqttTopic.ValidateTopicFilter(filter);
            body.WriteString(filter, "topic filter");
        }

        WriteFrame(output, MqttPacketType.Unsubscribe, 0x02, body);
    }

    /// <summary>Writes DISCONNECT or AUTH (5.0). A 3.1.1 DISCONNECT is two bytes.</summary>
    public static void WriteDisconnect(MqttBufferWriter output, MqttDisconnectPacket packet, MqttProtocolVersion version)
    {
        using var body = new MqttBufferWriter();
        if (version == MqttProtocolVersion.V500)
        {
            using var block = new MqttBufferWriter();
            if (packet.SessionExpiryIntervalSeconds is uint expiry)
            {
                MqttPropertyWriter.WriteUInt32(block, MqttPropertyId.SessionExpiryInterval, expiry);
            }

            MqttPropertyWriter.WriteString(block, MqttPropertyId.AuthenticationMethod, packet.AuthenticationMethod);
            MqttPropertyWriter.WriteBinary(block, MqttPropertyId.AuthenticationData, packet.AuthenticationData);
            MqttPropertyWriter.WriteString(block, MqttPropertyId.ReasonString, packet.ReasonString);
            MqttPropertyWriter.WriteString(block, MqttPropertyId.ServerReference, packet.ServerReference);
            MqttPropertyWriter.WriteUserProperties(block, packet.UserProperties);
            if (block.Length > 0 || packet.ReasonCode != MqttReasonCode.Success)
            {
                body.WriteByte((byte)packet.ReasonCode);
            }

            if (block.Length > 0)
            {
                MqttPropertyWriter.WriteBlock(body, block);
            }
        }
        else if (packet.Type == MqttPacketType.Auth)
        {
            MqttThrow.Options("AUTH does not exist in MQTT 3.1.1.");
        }

        WriteFrame(output, packet.Type, 0, body);
    }

    /// <summary>Encodes a PUBLISH into a new array (tests and tools; the client uses <see cref="WritePublish"/>).</summary>
    public static byte[] EncodePublish(string topic, ReadOnlySpan<byte> payload, MqttQualityOfService qos, bool retain, bool dup, ushort packetId, MqttProtocolVersion version, MqttPublishProperties? properties = null)
    {
        MqttTopic.ValidateTopicName(topic);
        int topicBytes = MqttUtf8.GetByteCount(topic, "topic name");
        using var block = new MqttBufferWriter();
        if (version == MqttProtocolVersion.V500)
        {
            properties?.Write(block);
        }

        var packet = new byte[GetPublishSize(topicBytes, payload.Length, qos, version, block.Length)];
        WritePublish(packet, topic, topicBytes, payload, qos, retain, dup, packetId, version, block.WrittenSpan);
        return packet;
    }

    private static long GetPublishRemainingLength(int topicByteCount, int payloadLength, MqttQualityOfService qos, MqttProtocolVersion version, int propertyBlockLength)
    {
        long remaining = 2L + topicByteCount + payloadLength + (qos != MqttQualityOfService.AtMostOnce ? 2 : 0);
        if (version == MqttProtocolVersion.V500)
        {
            remaining += MqttVariableByteInteger.GetLength(propertyBlockLength) + propertyBlockLength;
        }

        return remaining;
    }

    private static void WriteFrame(MqttBufferWriter output, MqttPacketType type, byte flags, MqttBufferWriter body)
    {
        if (body.Length > MqttVariableByteInteger.MaxValue)
        {
            MqttThrow.TooLarge(body.Length, MqttVariableByteInteger.MaxValue, "the MQTT remaining-length limit");
        }

        output.WriteByte((byte)(((int)type << 4) | flags));
        output.WriteVariableByteInteger(body.Length);
        output.WriteBytes(body.WrittenSpan);
    }
}
