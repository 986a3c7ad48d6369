namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Decodes MQTT control packets from spans. Pure: no I/O, no state. Every rule the specification
/// states for a receiver is checked (remaining length, flags, UTF-8, topics, properties, reason
/// codes, trailing bytes); a violation throws <see cref="MqttProtocolException"/> and nothing else.
/// Decoders never read outside the span they are given and allocate only what they return.
/// </summary>
internal static class MqttPacketReader
{
    /// <summary>
    /// Reads the fixed header at the start of <paramref name="buffer"/>. Returns false when more
    /// bytes are needed to know the packet's length. Throws when the first byte is invalid, the
    /// remaining length is malformed, or the packet exceeds <paramref name="maximumPacketSize"/>.
    /// </summary>
    public static bool TryReadFixedHeader(ReadOnlySpan<byte> buffer, int maximumPacketSize, out MqttFixedHeader header)
    {
        header = default;
        if (buffer.Length < 2)
        {
            return false;
        }

        byte first = buffer[0];
        var type = (MqttPacketType)(first >> 4);
        byte flags = (byte)(first & 0x0F);
        if (type == 0)
        {
            MqttThrow.Malformed("Packet type 0 is reserved.");
        }

        CheckFlags(type, flags);
        int status = MqttVariableByteInteger.TryRead(buffer[1..], out int remainingLength, out int lengthBytes);
        if (status == 0)
        {
            return false;
        }

        if (status < 0)
        {
            MqttThrow.Malformed("Remaining length is longer than 4 bytes or not minimally encoded.");
        }

        long total = 1L + lengthBytes + remainingLength;
        if (total > maximumPacketSize)
        {
            MqttThrow.TooLarge(total, maximumPacketSize, $"received {type.ToString().ToUpperInvariant()}");
        }

        header = new MqttFixedHeader(type, flags, remainingLength, 1 + lengthBytes);
        return true;
    }

    public static MqttConnectPacket ReadConnect(ReadOnlySpan<byte> body)
    {
        var reader = new MqttSpanReader(body);
        ReadOnlySpan<byte> protocolName = reader.ReadUtf8("protocol name");
        if (!protocolName.SequenceEqual("MQTT"u8))
        {
            MqttThrow.Protocol(MqttErrorCode.ProtocolViolation, "CONNECT protocol name is not 'MQTT'.");
        }

        byte level = reader.ReadByte("protocol level");
        if (level is not ((byte)MqttProtocolVersion.V311 or (byte)MqttProtocolVersion.V500))
        {
            throw new MqttProtocolException(MqttErrorCode.ProtocolViolation, $"CONNECT protocol level {level} is not supported (4 or 5).", MqttReasonCode.UnsupportedProtocolVersion);
        }

        var version = (MqttProtocolVersion)level;
        byte connectFlags = reader.ReadByte("connect flags");
        if ((connectFlags & 0x01) != 0)
        {
            MqttThrow.Malformed("CONNECT reserved flag is set.");
        }

        bool hasWill = (connectFlags & 0x04) != 0;
        var willQos = (MqttQualityOfService)((connectFlags >> 3) & 0x03);
        bool willRetain = (connectFlags & 0x20) != 0;
        bool hasPassword = (connectFlags & 0x40) != 0;
        bool hasUsername = (connectFlags & 0x80) != 0;
        if ((byte)willQos == 3)
        {
            MqttThrow.Malformed("CONNECT Will QoS is 3.");
        }

        if (!hasWill && (willQos != 0 || willRetain))
        {
            MqttThrow.Malformed("CONNECT Will QoS or Will Retain is set without the Will flag.");
        }

        if (version == MqttProtocolVersion.V311 && hasPassword && !hasUsername)
        {
            MqttThrow.Malformed("CONNECT has a password without a user name (not allowed in 3.1.1).");
        }

        var packet = new MqttConnectPacket
        {
            ProtocolVersion = version,
            CleanStart = (connectFlags & 0x02) != 0,
            KeepAliveSeconds = reader.ReadUInt16("keep alive"),
        };
        if (version == MqttProtocolVersion.V500)
        {
            var properties = new MqttPropertyReader(MqttPropertyReader.ReadBlock(ref reader), (int)MqttPacketType.Connect);
            while (properties.TryRead(out MqttProperty property))
            {
                switch (property.Id)
                {
                    case MqttPropertyId.SessionExpiryInterval: packet.SessionExpiryIntervalSeconds = property.Integer; break;
                    case MqttPropertyId.ReceiveMaximum: packet.ReceiveMaximum = (ushort)property.Integer; break;
                    case MqttPropertyId.MaximumPacketSize: packet.MaximumPacketSize = property.Integer; break;
                    case MqttPropertyId.TopicAliasMaximum: packet.TopicAliasMaximum = (ushort)property.Integer; break;
                    case MqttPropertyId.RequestProblemInformation: packet.RequestProblemInformation = property.Integer == 1; break;
                    case MqttPropertyId.RequestResponseInformation: packet.RequestResponseInformation = property.Integer == 1; break;
                    case MqttPropertyId.AuthenticationMethod: packet.AuthenticationMethod = property.String; break;
                    case MqttPropertyId.AuthenticationData: packet.AuthenticationData = property.Data.ToArray(); break;
                    case MqttPropertyId.UserProperty: AddUserProperty(packet, property.UserProperty); break;
                    default: break;
                }
            }
        }

        packet.ClientId = reader.ReadString("client identifier");
        if (hasWill)
        {
            MqttPublishProperties? willProperties = null;
            uint willDelay = 0;
            if (version == MqttProtocolVersion.V500)
            {
                ReadOnlySpan<byte> block = MqttPropertyReader.ReadBlock(ref reader);
                willProperties = MqttPublishProperties.Read(block, MqttPropertyReader.WillContext, out _);
                var delayReader = new MqttPropertyReader(block, MqttPropertyReader.WillContext);
                while (delayReader.TryRead(out MqttProperty property))
                {
                    if (property.Id == MqttPropertyId.WillDelayInterval)
                    {
                        willDelay = property.Integer;
                    }
                }
            }

            int topicOffset = reader.Position;
            string willTopic = reader.ReadString("will topic");
            if (MqttTopic.GetTopicNameError(willTopic) is string error)
            {
                throw new MqttProtocolException(MqttErrorCode.InvalidTopicName, $"Will topic at offset {topicOffset} is invalid: {error}.", MqttReasonCode.TopicNameInvalid);
            }

            byte[] willPayload = reader.ReadBinary("will payload").ToArray();
            packet.Will = new MqttWillMessage(willTopic, willPayload, willQos, willRetain)
            {
                DelayIntervalSeconds = willDelay,
                Properties = willProperties,
            };
        }

        if (hasUsername)
        {
            packet.Username = reader.ReadString("user name");
        }

        if (hasPassword)
        {
            packet.Password = reader.ReadBinary("password").ToArray();
        }

        ExpectEnd(ref reader, "CONNECT");
        return packet;
    }

    public static MqttConnAckPacket ReadConnAck(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var reader = new MqttSpanReader(body);
        byte acknowledgeFlags = reader.ReadByte("connect acknowledge flags");
        if ((acknowledgeFlags & 0xFE) != 0)
        {
            MqttThrow.Malformed($"CONNACK reserved flags are set (0x{acknowledgeFlags:X2}).");
        }

        byte code = reader.ReadByte("connect return code");
        var packet = new MqttConnAckPacket
        {
            SessionPresent = (acknowledgeFlags & 0x01) != 0,
            RawReturnCode = code,
        };
        if (version == MqttProtocolVersion.V311)
        {
            packet.ReasonCode = MqttConnAckPacket.FromV311ReturnCode(code);
        }
        else
        {
            // A 3.1.1 broker answers a 5.0 CONNECT with return code 1 in a 2-byte CONNACK.
            if (body.Length == 2 && code == 1)
            {
                packet.ReasonCode = MqttReasonCode.UnsupportedProtocolVersion;
                return packet;
            }

            packet.ReasonCode = CheckReason(code, "CONNACK", ConnAckReasons);
            if (!reader.End)
            {
                var properties = new MqttPropertyReader(MqttPropertyReader.ReadBlock(ref reader), (int)MqttPacketType.ConnAck);
                while (properties.TryRead(out MqttProperty property))
                {
                    switch (property.Id)
                    {
                        case MqttPropertyId.SessionExpiryInterval: packet.SessionExpiryIntervalSeconds = property.Integer; break;
                        case MqttPropertyId.ReceiveMaximum: packet.ReceiveMaximum = (ushort)property.Integer; break;
                        case MqttPropertyId.MaximumQoS: packet.MaximumQoS = (MqttQualityOfService)property.Integer; break;
                        case MqttPropertyId.RetainAvailable: packet.RetainAvailable = property.Integer == 1; break;
                        case MqttPropertyId.MaximumPacketSize: packet.MaximumPacketSize = property.Integer; break;
                        case MqttPropertyId.AssignedClientIdentifier: packet.AssignedClientIdentifier = property.String; break;
                        case MqttPropertyId.TopicAliasMaximum: packet.TopicAliasMaximum = (ushort)property.Integer; break;
                        case MqttPropertyId.ReasonString: packet.ReasonString = property.String; break;
                        case MqttPropertyId.WildcardSubscriptionAvailable: packet.WildcardSubscriptionAvailable = property.Integer == 1; break;
                        case MqttPropertyId.SubscriptionIdentifierAvailable: packet.SubscriptionIdentifiersAvailable = property.Integer == 1; break;
                        case MqttPropertyId.SharedSubscriptionAvailable: packet.SharedSubscriptionAvailable = property.Integer == 1; break;
                        case MqttPropertyId.ServerKeepAlive: packet.ServerKeepAliveSeconds = (ushort)property.Integer; break;
                        case MqttPropertyId.ResponseInformation: packet.ResponseInformation = property.String; break;
                        case MqttPropertyId.ServerReference: packet.ServerReference = property.String; break;
                        case MqttPropertyId.AuthenticationMethod: packet.AuthenticationMethod = property.String; break;
                        case MqttPropertyId.AuthenticationData: packet.AuthenticationData = property.Data.ToArray(); break;
                        case MqttPropertyId.UserProperty: (packet.UserProperties ??= []).Add(property.UserProperty); break;
                        default: break;
                    }
                }
            }
        }

        if (packet.ReasonCode != MqttReasonCode.Success && packet.SessionPresent)
        {
            MqttThrow.Protocol(MqttErrorCode.ProtocolViolation, "CONNACK refuses the connection but sets Session Present.");
        }

        ExpectEnd(ref reader, "CONNACK");
        return packet;
    }

    /// <summary>
    /// Decodes a PUBLISH without copying. <paramref name="flags"/> is the fixed header's low
    /// nibble (already checked by <see cref="TryReadFixedHeader"/>). The property block is
    /// validated; <paramref name="topicAlias"/> is its Topic Alias (0 when absent).
    /// </summary>
    public static MqttPublishPacket ReadPublish(ReadOnlySpan<byte> body, byte flags, MqttProtocolVersion version, out ushort topicAlias)
    {
        var qos = (MqttQualityOfService)((flags >> 1) & 0x03);
        bool dup = (flags & 0x08) != 0;
        bool retain = (flags & 0x01) != 0;
        var reader = new MqttSpanReader(body);
        ReadOnlySpan<byte> topic = reader.ReadUtf8("topic name");
        if (topic.IndexOfAny((byte)'+', (byte)'#') >= 0)
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidTopicName, "PUBLISH topic name contains a wildcard.", MqttReasonCode.TopicNameInvalid);
        }

        ushort packetId = 0;
        if (qos != MqttQualityOfService.AtMostOnce)
        {
            packetId = reader.ReadUInt16("packet identifier");
            if (packetId == 0)
            {
                MqttThrow.Malformed("PUBLISH with QoS > 0 has packet identifier 0.");
            }
        }

        topicAlias = 0;
        ReadOnlySpan<byte> block = default;
        if (version == MqttProtocolVersion.V500)
        {
            block = MqttPropertyReader.ReadBlock(ref reader);
            var properties = new MqttPropertyReader(block, (int)MqttPacketType.Publish);
            while (properties.TryRead(out MqttProperty property))
            {
                if (property.Id == MqttPropertyId.TopicAlias)
                {
                    topicAlias = (ushort)property.Integer;
                }
                else if (property.Id == MqttPropertyId.ResponseTopic)
                {
                    if (property.Data.IsEmpty || property.Data.IndexOfAny((byte)'+', (byte)'#') >= 0)
                    {
                        throw new MqttProtocolException(MqttErrorCode.InvalidTopicName, "PUBLISH response topic is empty or contains a wildcard.", MqttReasonCode.TopicNameInvalid);
                    }
                }
            }
        }

        if (topic.IsEmpty && topicAlias == 0)
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidTopicName, "PUBLISH topic name is empty and no topic alias is given.", MqttReasonCode.TopicNameInvalid);
        }

        return new MqttPublishPacket(topic, packetId, qos, dup, retain, block, reader.ReadRest());
    }

    /// <summary>Decodes PUBACK, PUBREC, PUBREL or PUBCOMP.</summary>
    public static MqttAckPacket ReadAck(MqttPacketType type, ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var reader = new MqttSpanReader(body);
        ushort packetId = ReadPacketId(ref reader, type);
        if (version == MqttProtocolVersion.V311 || reader.End)
        {
            ExpectEnd(ref reader, type);
            return new MqttAckPacket(type, packetId, MqttReasonCode.Success);
        }

        byte[] allowed = type is MqttPacketType.PubAck or MqttPacketType.PubRec ? PublishAckReasons : PublishReleaseReasons;
        MqttReasonCode reason = CheckReason(reader.ReadByte("reason code"), type, allowed);
        string? reasonString = null;
        if (!reader.End)
        {
            var properties = new MqttPropertyReader(MqttPropertyReader.ReadBlock(ref reader), (int)type);
            while (properties.TryRead(out MqttProperty property))
            {
                if (property.Id == MqttPropertyId.ReasonString)
                {
                    reasonString = property.String;
                }
            }
        }

        ExpectEnd(ref reader, type);
        return new MqttAckPacket(type, packetId, reason, reasonString);
    }

    public static MqttSubscribePacket ReadSubscribe(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var reader = new MqttSpanReader(body);
        var packet = new MqttSubscribePacket { PacketId = ReadPacketId(ref reader, MqttPacketType.Subscribe) };
        if (version == MqttProtocolVersion.V500)
        {
            List<MqttUserProperty>? user = null;
            var properties = new MqttPropertyReader(MqttPropertyReader.ReadBlock(ref reader), (int)MqttPacketType.Subscribe);
            while (properties.TryRead(out MqttProperty property))
            {
                if (property.Id == MqttPropertyId.SubscriptionIdentifier)
                {
                    packet.SubscriptionIdentifier = (int)property.Integer;
                }
                else if (property.Id == MqttPropertyId.UserProperty)
                {
                    (user ??= []).Add(property.UserProperty);
                }
            }

            packet.UserProperties = user;
        }

        while (!reader.End)
        {
            int offset = reader.Position;
            string filter = reader.ReadString("topic filter");
            if (MqttTopic.GetTopicFilterError(filter) is string error)
            {
                throw new MqttProtocolException(MqttErrorCode.InvalidTopicFilter, $"SUBSCRIBE topic filter at offset {offset} is invalid: {error}.", MqttReasonCode.TopicFilterInvalid);
            }

            byte options = reader.ReadByte("subscription options");
            byte reservedMask = version == MqttProtocolVersion.V500 ? (byte)0xC0 : (byte)0xFC;
            if ((options & reservedMask) != 0 || (options & 0x03) == 3 || ((options >> 4) & 0x03) == 3)
            {
                MqttThrow.Malformed($"SUBSCRIBE options byte 0x{options:X2} at offset {offset} has reserved bits or an invalid QoS or retain handling.");
            }

            packet.Subscriptions.Add(new MqttSubscription(filter, (MqttQualityOfService)(options & 0x03))
            {
                NoLocal = (options & 0x04) != 0,
                RetainAsPublished = (options & 0x08) != 0,
                RetainHandling = (MqttRetainHandling)((options >> 4) & 0x03),
            });
        }

        if (packet.Subscriptions.Count == 0)
        {
            MqttThrow.Protocol(MqttErrorCode.ProtocolViolation, "SUBSCRIBE contains no topic filter.");
        }

        return packet;
    }

    /// <summary>Decodes SUBACK or UNSUBACK.</summary>
    public static MqttSubAckPacket ReadSubAck(MqttPacketType type, ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var reader = new MqttSpanReader(body);
        var packet = new MqttSubAckPacket { Type = type, PacketId = ReadPacketId(ref reader, type) };
        if (version == MqttProtocolVersion.V500)
        {
            var properties = new MqttPropertyReader(MqttPropertyReader.ReadBlock(ref reader), (int)type);
            while (properties.TryRead(out MqttProperty property))
            {
                if (property.Id == MqttPropertyId.ReasonString)
                {
                    packet.ReasonString = property.String;
                }
                else if (property.Id == MqttPropertyId.UserProperty)
                {
                    (packet.UserProperties ??= []).Add(property.UserProperty);
                }
            }
        }
        else if (type == MqttPacketType.UnsubAck)
        {
            ExpectEnd(ref reader, type);
            return packet;
        }

        byte[] allowed = type == MqttPacketType.SubAck
            ? (version == MqttProtocolVersion.V500 ? SubAckReasons : SubAckReturnCodesV311)
            : UnsubAckReasons;
        while (!reader.End)
        {
            packet.ReasonCodes.Add(CheckReason(reader.ReadByte("reason code"), type, allowed));
        }

        if (packet.ReasonCodes.Count == 0)
        {
            MqttThrow.Protocol(MqttErrorCode.ProtocolViolation, $"{Name(type)} contains no reason code.");
        }

        return packet;
    }

    public static MqttUnsubscribePacket ReadUnsubscribe(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var reader = new MqttSpanReader(body);
        var packet = new MqttUnsubscribePacket { PacketId = ReadPacketId(ref reader, MqttPacketType.Unsubscribe) };
        if (version == MqttProtocolVersion.V500)
        {
            List<MqttUserProperty>? user = null;
            var properties = new MqttPropertyReader(MqttPropertyReader.ReadBlock(ref reader), (int)MqttPacketType.Unsubscribe);
            while (properties.TryRead(out MqttProperty property))
            {
                if (property.Id == MqttPropertyId.UserProperty)
                {
                    (user ??= []).Add(property.UserProperty);
                }
            }

            packet.UserProperties = user;
        }

        while (!reader.End)
        {
            int offset = reader.Position;
            string filter = reader.ReadString("topic filter");
            if (MqttTopic.GetTopicFilterError(filter) is string error)
            {
                throw new MqttProtocolException(MqttErrorCode.InvalidTopicFilter, $"UNSUBSCRIBE topic filter at offset {offset} is invalid: {error}.", MqttReasonCode.TopicFilterInvalid);
            }

            packet.TopicFilters.Add(filter);
        }

        if (packet.TopicFilters.Count == 0)
        {
            MqttThrow.Protocol(MqttErrorCode.ProtocolViolation, "UNSUBSCRIBE contains no topic filter.");
        }

        return packet;
    }

    /// <summary>Decodes DISCONNECT or (5.0 only) AUTH.</summary>
    public static MqttDisconnectPacket ReadDisconnect(MqttPacketType type, ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var packet = new MqttDisconnectPacket { Type = type };
        if (version == MqttProtocolVersion.V311)
        {
            if (type == MqttPacketType.Auth)
            {
                MqttThrow.Protocol(MqttErrorCode.ProtocolViolation, "AUTH does not exist in MQTT 3.1.1.");
            }

            if (!body.IsEmpty)
            {
                MqttThrow.Malformed($"DISCONNECT has {body.Length} byte(s) of body; 3.1.1 allows none.");
            }

            return packet;
        }

        var reader = new MqttSpanReader(body);
        if (reader.End)
        {
            return packet;
        }

        packet.ReasonCode = CheckReason(reader.ReadByte("reason code"), type, type == MqttPacketType.Auth ? AuthReasons : DisconnectReasons);
        if (!reader.End)
        {
            var properties = new MqttPropertyReader(MqttPropertyReader.ReadBlock(ref reader), (int)type);
            while (properties.TryRead(out MqttProperty property))
            {
                switch (property.Id)
                {
                    case MqttPropertyId.SessionExpiryInterval: packet.SessionExpiryIntervalSeconds = property.Integer; break;
                    case MqttPropertyId.ReasonString: packet.ReasonString = property.String; break;
                    case MqttPropertyId.ServerReference: packet.ServerReference = property.String; break;
                    case MqttPropertyId.AuthenticationMethod: packet.AuthenticationMethod = property.String; break;
                    case MqttPropertyId.AuthenticationData: packet.AuthenticationData = property.Data.ToArray(); break;
                    case MqttPropertyId.UserProperty: (packet.UserProperties ??= []).Add(property.UserProperty); break;
                    default: break;
                }
            }
        }

        ExpectEnd(ref reader, type);
        return packet;
    }

    /// <summary>PINGREQ and PINGRESP have no body.</summary>
    public static void ReadEmpty(MqttPacketType type, ReadOnlySpan<byte> body)
    {
        if (!body.IsEmpty)
        {
            MqttThrow.Malformed($"{Name(type)} has {body.Length} byte(s) of body; it must have none.");
        }
    }

    internal static string Name(MqttPacketType type) => type switch
    {
        MqttPacketType.Connect => "CONNECT",
        MqttPacketType.ConnAck => "CONNACK",
        MqttPacketType.Publish => "PUBLISH",
        MqttPacketType.PubAck => "PUBACK",
        MqttPacketType.PubRec => "PUBREC",
        MqttPacketType.PubRel => "PUBREL",
        MqttPacketType.PubComp => "PUBCOMP",
        MqttPacketType.Subscribe => "SUBSCRIBE",
        MqttPacketType.SubAck => "SUBACK",
        MqttPacketType.Unsubscribe => "UNSUBSCRIBE",
        MqttPacketType.UnsubAck => "UNSUBACK",
        MqttPacketType.PingReq => "PINGREQ",
        MqttPacketType.PingResp => "PINGRESP",
        MqttPacketType.Disconnect => "DISCONNECT",
        MqttPacketType.Auth => "AUTH",
        _ => $"packet type {(int)type}",
    };

    private static readonly byte[] ConnAckReasons = [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F];
    private static readonly byte[] PublishAckReasons = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
    private static readonly byte[] PublishReleaseReasons = [0x00, 0x92];
    private static readonly byte[] SubAckReasons = [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2];
    private static readonly byte[] SubAckReturnCodesV311 = [0x00, 0x01, 0x02, 0x80];
    private static readonly byte[] UnsubAckReasons = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];
    private static readonly byte[] DisconnectReasons =
        [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2];
    private static readonly byte[] AuthReasons = [0x00, 0x18, 0x19];

    private static void CheckFlags(MqttPacketType type, byte flags)
    {
        switch (type)
        {
            case MqttPacketType.Publish:
                if ((flags & 0x06) == 0x06)
                {
                    MqttThrow.Malformed("PUBLISH has QoS 3.");
                }

                if ((flags & 0x0E) == 0x08)
                {
                    MqttThrow.Malformed("PUBLISH with QoS 0 has the DUP flag set.");
                }

                return;
            case MqttPacketType.PubRel:
            case MqttPacketType.Subscribe:
            case MqttPacketType.Unsubscribe:
                if (flags != 0x02)
                {
                    MqttThrow.Malformed($"{Name(type)} fixed header flags are 0x{flags:X}; they must be 0x2.");
                }

                return;
            default:
                if (flags != 0)
                {
                    MqttThrow.Malformed($"{Name(type)} fixed header flags are 0x{flags:X}; they must be 0.");
                }

                return;
        }
    }

    private static ushort ReadPacketId(ref MqttSpanReader reader, MqttPacketType type)
    {
        ushort packetId = reader.ReadUInt16("packet identifier");
        if (packetId == 0)
        {
            MqttThrow.Malformed($"{Name(type)} has packet identifier 0.");
        }

        return packetId;
    }

    private static MqttReasonCode CheckReason(byte code, MqttPacketType type, byte[] allowed) => CheckReason(code, Name(type), allowed);

    private static MqttReasonCode CheckReason(byte code, string packetName, byte[] allowed)
    {
        if (Array.IndexOf(allowed, code) < 0)
        {
            throw new MqttProtocolException(MqttErrorCode.ProtocolViolation, $"Reason code 0x{code:X2} is not allowed in {packetName}.", MqttReasonCode.ProtocolError);
        }

        return (MqttReasonCode)code;
    }

    private static void ExpectEnd(ref MqttSpanReader reader, MqttPacketType type) => ExpectEnd(ref reader, Name(type));

    private static void ExpectEnd(ref MqttSpanReader reader, string packetName)
    {
        if (!reader.End)
        {
            MqttThrow.Malformed($"{packetName} has {reader.Remaining} unexpected trailing byte(s) at offset {reader.Position}.");
        }
    }

    private static void AddUserProperty(MqttConnectPacket packet, MqttUserProperty property)
    {
        var list = packet.UserProperties as List<MqttUserProperty> ?? [];
        list.Add(property);
        packet.UserProperties = list;
    }
}
