using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Tests.Mqtt;

/// <summary>Valid encodings of every packet type in both protocol versions, and a decoder for any packet: the fuzz seeds and round-trip subjects.</summary>
internal static class MqttCodecSamples
{
    public static IReadOnlyList<byte[]> ValidPackets(MqttProtocolVersion version)
    {
        var packets = new List<byte[]>();
        bool v5 = version == MqttProtocolVersion.V500;
        packets.Add(Encode(w => MqttPacketWriter.WriteConnect(w, new MqttConnectPacket
        {
            ProtocolVersion = version,
            ClientId = "edge-7",
            CleanStart = false,
            KeepAliveSeconds = 30,
            Username = "user",
            Password = new byte[] { 1, 2, 3 },
            Will = new MqttWillMessage("ce/fleet/presence/edge-7", new byte[] { 0 }, MqttQualityOfService.AtLeastOnce, retain: true)
            {
                DelayIntervalSeconds = v5 ? 5u : 0u,
                Properties = v5 ? new MqttPublishProperties { ContentType = "text/plain", UserProperties = [new("k", "v")] } : null,
            },
            SessionExpiryIntervalSeconds = v5 ? 3600u : 0u,
            ReceiveMaximum = v5 ? (ushort)10 : (ushort)0,
            MaximumPacketSize = v5 ? 65536u : 0u,
            UserProperties = v5 ? [new("a", "b")] : null,
        })));
        packets.Add(Encode(w => MqttPacketWriter.WriteConnAck(w, new MqttConnAckPacket
        {
            SessionPresent = true,
            ReasonCode = MqttReasonCode.Success,
            ReceiveMaximum = 20,
            MaximumPacketSize = 1024,
            AssignedClientIdentifier = "auto-1",
            ReasonString = "welcome",
            ServerKeepAliveSeconds = 60,
            MaximumQoS = MqttQualityOfService.AtLeastOnce,
            UserProperties = [new("x", "y")],
        }, version)));
        packets.Add(MqttPacketWriter.EncodePublish("ce/a/b", "payload"u8, MqttQualityOfService.AtMostOnce, true, false, 0, version));
        packets.Add(MqttPacketWriter.EncodePublish("ce/a/b", "payload"u8, MqttQualityOfService.ExactlyOnce, false, true, 7, version,
            v5 ? new MqttPublishProperties { ContentType = "c", ResponseTopic = "r/t", CorrelationData = new byte[] { 9 }, MessageExpiryIntervalSeconds = 5, PayloadIsUtf8 = true, UserProperties = [new("n", "v")] } : null));
        foreach (MqttPacketType type in new[] { MqttPacketType.PubAck, MqttPacketType.PubRec, MqttPacketType.PubRel, MqttPacketType.PubComp })
        {
            var ack = new byte[MqttPacketWriter.AckSizeMax];
            int length = MqttPacketWriter.WriteAck(ack, type, 300, v5 && type is MqttPacketType.PubAck ? MqttReasonCode.NoMatchingSubscribers : MqttReasonCode.Success, version);
            packets.Add(ack[..length]);
        }

        packets.Add(Encode(w => MqttPacketWriter.WriteSubscribe(w, new MqttSubscribePacket
        {
            PacketId = 11,
            Subscriptions = [new MqttSubscription("ce/+/up/#", MqttQualityOfService.ExactlyOnce) { NoLocal = v5, RetainHandling = v5 ? MqttRetainHandling.SendAtSubscribeIfNew : 0 }, new MqttSubscription("$SYS/x", MqttQualityOfService.AtMostOnce)],
            SubscriptionIdentifier = v5 ? 42 : 0,
        }, version)));
        packets.Add(Encode(w => MqttPacketWriter.WriteSubAck(w, new MqttSubAckPacket { PacketId = 11, ReasonCodes = [MqttReasonCode.GrantedQoS2, MqttReasonCode.UnspecifiedError], ReasonString = v5 ? "partly" : null }, version)));
        packets.Add(Encode(w => MqttPacketWriter.WriteUnsubscribe(w, new MqttUnsubscribePacket { PacketId = 12, TopicFilters = ["ce/+/up/#", "a"] }, version)));
        packets.Add(Encode(w => MqttPacketWriter.WriteSubAck(w, new MqttSubAckPacket { Type = MqttPacketType.UnsubAck, PacketId = 12, ReasonCodes = [MqttReasonCode.Success, MqttReasonCode.NoSubscriptionExisted] }, version)));
        packets.Add([0xC0, 0x00]);
        packets.Add([0xD0, 0x00]);
        packets.Add(Encode(w => MqttPacketWriter.WriteDisconnect(w, new MqttDisconnectPacket { ReasonCode = v5 ? MqttReasonCode.ServerShuttingDown : 0, ReasonString = v5 ? "bye" : null }, version)));
        if (v5)
        {
            packets.Add(Encode(w => MqttPacketWriter.WriteDisconnect(w, new MqttDisconnectPacket { Type = MqttPacketType.Auth, ReasonCode = MqttReasonCode.ContinueAuthentication, AuthenticationMethod = "SCRAM", AuthenticationData = [1, 2] }, version)));
        }

        return packets;
    }

    public static byte[] Encode(Action<MqttBufferWriter> write)
    {
        using var writer = new MqttBufferWriter();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decodes one packet of any type as a client or broker would. Returns the packet type, or 0
    /// when more bytes are needed. Throws only what the codec throws.
    /// </summary>
    public static MqttPacketType DecodeAny(ReadOnlySpan<byte> packet, MqttProtocolVersion version, int maximumPacketSize)
    {
        if (!MqttPacketReader.TryReadFixedHeader(packet, maximumPacketSize, out MqttFixedHeader header) || packet.Length < header.TotalLength)
        {
            return 0;
        }

        ReadOnlySpan<byte> body = packet.Slice(header.HeaderLength, header.RemainingLength);
        switch (header.Type)
        {
            case MqttPacketType.Connect: MqttPacketReader.ReadConnect(body); break;
            case MqttPacketType.ConnAck: MqttPacketReader.ReadConnAck(body, version); break;
            case MqttPacketType.Publish:
                MqttPublishPacket publish = MqttPacketReader.ReadPublish(body, header.Flags, version, out _);
                _ = MqttPublishProperties.Read(publish.PropertyBlock, (int)MqttPacketType.Publish, out _);
                _ = publish.Topic;
                break;
            case MqttPacketType.PubAck:
            case MqttPacketType.PubRec:
            case MqttPacketType.PubRel:
            case MqttPacketType.PubComp: MqttPacketReader.ReadAck(header.Type, body, version); break;
            case MqttPacketType.Subscribe: MqttPacketReader.ReadSubscribe(body, version); break;
            case MqttPacketType.SubAck:
            case MqttPacketType.UnsubAck: MqttPacketReader.ReadSubAck(header.Type, body, version); break;
            case MqttPacketType.Unsubscribe: MqttPacketReader.ReadUnsubscribe(body, version); break;
            case MqttPacketType.PingReq:
            case MqttPacketType.PingResp: MqttPacketReader.ReadEmpty(header.Type, body); break;
            case MqttPacketType.Disconnect:
            case MqttPacketType.Auth: MqttPacketReader.ReadDisconnect(header.Type, body, version); break;
            default: throw new InvalidOperationException($"unreachable packet type {header.Type}");
        }

        return header.Type;
    }
}
