using System.Text;
using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Sync.Tests.Mqtt;

/// <summary>The pure codec: exact encodings from the specification, round trips, and every receiver rule.</summary>
public sealed class MqttPacketCodecTests
{
    private const int NoLimit = MqttClientOptions.ProtocolPacketSizeMax;

    [Theory]
    [InlineData(0, "00")]
    [InlineData(127, "7F")]
    [InlineData(128, "8001")]
    [InlineData(16_383, "FF7F")]
    [InlineData(16_384, "808001")]
    [InlineData(2_097_151, "FFFF7F")]
    [InlineData(2_097_152, "80808001")]
    [InlineData(268_435_455, "FFFFFF7F")]
    public void VariableByteInteger_SpecBoundaries_EncodeAndDecodeExactly(int value, string hex)
    {
        var buffer = new byte[4];
        int length = MqttVariableByteInteger.Write(buffer, value);
        Assert.Equal(hex, Convert.ToHexString(buffer, 0, length));
        Assert.Equal(length, MqttVariableByteInteger.GetLength(value));
        Assert.Equal(1, MqttVariableByteInteger.TryRead(buffer.AsSpan(0, length), out int decoded, out int read));
        Assert.Equal(value, decoded);
        Assert.Equal(length, read);
    }

    [Theory]
    [InlineData("FFFFFFFF01")] // five bytes
    [InlineData("8000")] // not minimal
    [InlineData("FF8000")]
    public void VariableByteInteger_TooLongOrNotMinimal_Rejected(string hex) =>
        Assert.Equal(-1, MqttVariableByteInteger.TryRead(Convert.FromHexString(hex), out _, out _));

    [Fact]
    public void TryReadFixedHeader_FiveByteRemainingLength_ThrowsMalformed()
    {
        var error = Assert.Throws<MqttProtocolException>(() => MqttPacketReader.TryReadFixedHeader(Convert.FromHexString("30FFFFFFFF01"), NoLimit, out _));
        Assert.Equal(MqttErrorCode.MalformedPacket, error.Code);
    }

    [Fact]
    public void TryReadFixedHeader_IncompleteLength_ReturnsFalse()
    {
        Assert.False(MqttPacketReader.TryReadFixedHeader([0x30], NoLimit, out _));
        Assert.False(MqttPacketReader.TryReadFixedHeader([0x30, 0x80], NoLimit, out _));
        Assert.True(MqttPacketReader.TryReadFixedHeader([0x30, 0x80, 0x01], NoLimit, out MqttFixedHeader header));
        Assert.Equal(128, header.RemainingLength);
        Assert.Equal(3, header.HeaderLength);
    }

    [Fact]
    public void TryReadFixedHeader_LargerThanMaximum_ThrowsPacketTooLargeNamingTheLimit()
    {
        var error = Assert.Throws<MqttProtocolException>(() => MqttPacketReader.TryReadFixedHeader([0x30, 0x80, 0x01], 100, out _));
        Assert.Equal(MqttErrorCode.PacketTooLarge, error.Code);
        Assert.Contains("100", error.Message);
    }

    [Theory]
    [InlineData("6000", "PUBREL flags 0")]
    [InlineData("8000", "SUBSCRIBE flags 0")]
    [InlineData("A000", "UNSUBSCRIBE flags 0")]
    [InlineData("4100", "PUBACK flags 1")]
    [InlineData("3600", "PUBLISH QoS 3")]
    [InlineData("3800", "PUBLISH QoS 0 with DUP")]
    [InlineData("0000", "reserved type 0")]
    public void TryReadFixedHeader_InvalidFlags_ThrowsMalformed(string hex, string why)
    {
        var error = Assert.Throws<MqttProtocolException>(() => MqttPacketReader.TryReadFixedHeader(Convert.FromHexString(hex), NoLimit, out _));
        Assert.True(error.Code == MqttErrorCode.MalformedPacket, why);
    }

    [Fact]
    public void WritePublish_V311Qos1_MatchesTheSpecLayout()
    {
        byte[] packet = MqttPacketWriter.EncodePublish("a/b", "hi"u8, MqttQualityOfService.AtLeastOnce, retain: true, dup: true, packetId: 10, MqttProtocolVersion.V311);
        // 0x3B = PUBLISH | DUP | QoS1 | RETAIN; remaining 9 = 2+3 topic, 2 id, 2 payload.
        Assert.Equal("3B090003612F62000A6869", Convert.ToHexString(packet));
    }

    [Fact]
    public void WritePublish_V5_HasAnEmptyPropertyBlockAndRoundTrips()
    {
        byte[] packet = MqttPacketWriter.EncodePublish("t", "x"u8, MqttQualityOfService.AtMostOnce, false, false, 0, MqttProtocolVersion.V500);
        Assert.Equal("3005000174" + "00" + "78", Convert.ToHexString(packet));
        Assert.True(MqttPacketReader.TryReadFixedHeader(packet, NoLimit, out MqttFixedHeader header));
        MqttPublishPacket publish = MqttPacketReader.ReadPublish(packet.AsSpan(header.HeaderLength), header.Flags, MqttProtocolVersion.V500, out ushort alias);
        Assert.Equal("t", publish.Topic);
        Assert.Equal("x"u8.ToArray(), publish.Payload.ToArray());
        Assert.Equal(0, alias);
    }

    [Fact]
    public void WritePublish_DoesNotAllocate()
    {
        var destination = new byte[256];
        byte[] payload = new byte[100];
        MqttPacketWriter.WritePublish(destination, "ce/fleet/up/node", 16, payload, MqttQualityOfService.AtLeastOnce, false, false, 1, MqttProtocolVersion.V500, default);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            MqttPacketWriter.WritePublish(destination, "ce/fleet/up/node", 16, payload, MqttQualityOfService.AtLeastOnce, false, false, 1, MqttProtocolVersion.V500, default);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Connect_V5WithWillAndProperties_RoundTrips()
    {
        var original = new MqttConnectPacket
        {
            ProtocolVersion = MqttProtocolVersion.V500,
            ClientId = "edge-1",
            CleanStart = false,
            KeepAliveSeconds = 45,
            Username = "u",
            Password = new byte[] { 7, 8 },
            Will = new MqttWillMessage("p/edge-1", Encoding.UTF8.GetBytes("offline"), MqttQualityOfService.AtLeastOnce, retain: true) { DelayIntervalSeconds = 3 },
            SessionExpiryIntervalSeconds = 600,
            ReceiveMaximum = 5,
            MaximumPacketSize = 4096,
            UserProperties = [new("site", "north")],
        };
        byte[] bytes = MqttCodecSamples.Encode(w => MqttPacketWriter.WriteConnect(w, original));
        Assert.True(MqttPacketReader.TryReadFixedHeader(bytes, NoLimit, out MqttFixedHeader header));
        MqttConnectPacket decoded = MqttPacketReader.ReadConnect(bytes.AsSpan(header.HeaderLength));
        Assert.Equal(MqttProtocolVersion.V500, decoded.ProtocolVersion);
        Assert.Equal("edge-1", decoded.ClientId);
        Assert.False(decoded.CleanStart);
        Assert.Equal(45, decoded.KeepAliveSeconds);
        Assert.Equal("u", decoded.Username);
        Assert.Equal(new byte[] { 7, 8 }, decoded.Password!.Value.ToArray());
        Assert.Equal("p/edge-1", decoded.Will!.Topic);
        Assert.True(decoded.Will.Retain);
        Assert.Equal(3u, decoded.Will.DelayIntervalSeconds);
        Assert.Equal(600u, decoded.SessionExpiryIntervalSeconds);
        Assert.Equal(5, decoded.ReceiveMaximum);
        Assert.Equal(4096u, decoded.MaximumPacketSize);
        Assert.Equal([new("site", "north")], decoded.UserProperties!);
    }

    [Fact]
    public void ConnAck_V311ReturnCodes_MapToReasonCodes()
    {
        Assert.Equal(MqttReasonCode.BadUserNameOrPassword, MqttPacketReader.ReadConnAck([0x00, 0x04], MqttProtocolVersion.V311).ReasonCode);
        Assert.Equal(MqttReasonCode.NotAuthorized, MqttPacketReader.ReadConnAck([0x00, 0x05], MqttProtocolVersion.V311).ReasonCode);
        Assert.True(MqttPacketReader.ReadConnAck([0x01, 0x00], MqttProtocolVersion.V311).SessionPresent);
        Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadConnAck([0x00, 0x06], MqttProtocolVersion.V311));
        Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadConnAck([0x01, 0x05], MqttProtocolVersion.V311)); // refusal with session present
        Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadConnAck([0x02, 0x00], MqttProtocolVersion.V311)); // reserved flag
    }

    [Fact]
    public void ConnAck_V311AnswerToV5Connect_ReadAsUnsupportedProtocolVersion() =>
        Assert.Equal(MqttReasonCode.UnsupportedProtocolVersion, MqttPacketReader.ReadConnAck([0x00, 0x01], MqttProtocolVersion.V500).ReasonCode);

    [Theory]
    [InlineData("0003C08061", "overlong encoding of U+0000")]
    [InlineData("0003EDA080", "encoded surrogate")]
    [InlineData("0003610062", "U+0000")]
    [InlineData("0002C3", "truncated sequence")]
    public void ReadPublish_InvalidUtf8Topic_ThrowsInvalidUtf8(string topicHex, string why)
    {
        byte[] body = Convert.FromHexString(topicHex);
        var error = Assert.ThrowsAny<MqttProtocolException>(() => MqttPacketReader.ReadPublish(body, 0, MqttProtocolVersion.V311, out _));
        Assert.True(error.Code is MqttErrorCode.InvalidUtf8String or MqttErrorCode.MalformedPacket, why);
    }

    [Theory]
    [InlineData("a/+")]
    [InlineData("#")]
    public void ReadPublish_WildcardInTopic_ThrowsInvalidTopicName(string topic)
    {
        byte[] body = [0, (byte)topic.Length, .. Encoding.UTF8.GetBytes(topic)];
        var error = Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadPublish(body, 0, MqttProtocolVersion.V311, out _));
        Assert.Equal(MqttErrorCode.InvalidTopicName, error.Code);
    }

    [Fact]
    public void ReadPublish_Qos1WithPacketIdZero_ThrowsMalformed()
    {
        byte[] body = [0, 1, (byte)'t', 0, 0];
        var error = Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadPublish(body, 0x02, MqttProtocolVersion.V311, out _));
        Assert.Equal(MqttErrorCode.MalformedPacket, error.Code);
    }

    [Fact]
    public void ReadPublish_TopicLengthBeyondBody_ThrowsNamingFieldAndOffset()
    {
        byte[] body = [0, 50, (byte)'t'];
        var error = Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadPublish(body, 0, MqttProtocolVersion.V311, out _));
        Assert.Contains("topic name", error.Message);
        Assert.Contains("offset 2", error.Message);
    }

    [Fact]
    public void Properties_DuplicateNotAllowedOrUnknown_ThrowInvalidProperty()
    {
        // PUBLISH v5 with Content Type twice.
        byte[] duplicate = [0, 1, (byte)'t', 8, 0x03, 0, 1, (byte)'a', 0x03, 0, 1, (byte)'b'];
        Assert.Equal(MqttErrorCode.InvalidProperty, Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadPublish(duplicate, 0, MqttProtocolVersion.V500, out _)).Code);
        // PUBLISH v5 with Session Expiry Interval (a CONNECT property).
        byte[] wrongPacket = [0, 1, (byte)'t', 5, 0x11, 0, 0, 0, 1];
        Assert.Equal(MqttErrorCode.InvalidProperty, Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadPublish(wrongPacket, 0, MqttProtocolVersion.V500, out _)).Code);
        // Unknown identifier 0x7F.
        byte[] unknown = [0, 1, (byte)'t', 2, 0x7F, 0];
        Assert.Equal(MqttErrorCode.InvalidProperty, Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadPublish(unknown, 0, MqttProtocolVersion.V500, out _)).Code);
        // User properties may repeat.
        byte[] users = [0, 1, (byte)'t', 12, 0x26, 0, 1, (byte)'a', 0, 0, 0x26, 0, 1, (byte)'a', 0, 0];
        MqttPacketReader.ReadPublish(users, 0, MqttProtocolVersion.V500, out _);
    }

    [Fact]
    public void ReadAck_V311WithTrailingBytes_ThrowsMalformed_V5ReasonChecked()
    {
        Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadAck(MqttPacketType.PubAck, [0, 1, 0x80], MqttProtocolVersion.V311));
        Assert.Equal(MqttReasonCode.NotAuthorized, MqttPacketReader.ReadAck(MqttPacketType.PubAck, [0, 1, 0x87], MqttProtocolVersion.V500).ReasonCode);
        Assert.Equal(MqttErrorCode.ProtocolViolation, Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadAck(MqttPacketType.PubComp, [0, 1, 0x87], MqttProtocolVersion.V500)).Code);
        Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadAck(MqttPacketType.PubAck, [0, 0], MqttProtocolVersion.V311));
    }

    [Fact]
    public void Subscribe_RoundTripsOptions_AndRejectsReservedBits()
    {
        var original = new MqttSubscribePacket
        {
            PacketId = 3,
            Subscriptions = [new MqttSubscription("a/+/c", MqttQualityOfService.ExactlyOnce) { NoLocal = true, RetainAsPublished = true, RetainHandling = MqttRetainHandling.DoNotSend }],
            SubscriptionIdentifier = 77,
        };
        byte[] bytes = MqttCodecSamples.Encode(w => MqttPacketWriter.WriteSubscribe(w, original, MqttProtocolVersion.V500));
        Assert.True(MqttPacketReader.TryReadFixedHeader(bytes, NoLimit, out MqttFixedHeader header));
        MqttSubscribePacket decoded = MqttPacketReader.ReadSubscribe(bytes.AsSpan(header.HeaderLength), MqttProtocolVersion.V500);
        MqttSubscription subscription = Assert.Single(decoded.Subscriptions);
        Assert.Equal("a/+/c", subscription.TopicFilter);
        Assert.True(subscription.NoLocal);
        Assert.True(subscription.RetainAsPublished);
        Assert.Equal(MqttRetainHandling.DoNotSend, subscription.RetainHandling);
        Assert.Equal(77, decoded.SubscriptionIdentifier);

        // 3.1.1 allows only the QoS bits in the options byte.
        Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadSubscribe([0, 1, 0, 1, (byte)'a', 0x04], MqttProtocolVersion.V311));
    }

    [Fact]
    public void Encode_InvalidStrings_Rejected()
    {
        var surrogate = new MqttConnectPacket { ClientId = "bad\uD800" };
        Assert.Equal(MqttErrorCode.InvalidUtf8String, Assert.Throws<MqttProtocolException>(() => MqttCodecSamples.Encode(w => MqttPacketWriter.WriteConnect(w, surrogate))).Code);
        var tooLong = new MqttConnectPacket { ClientId = new string('x', 70_000) };
        Assert.Equal(MqttErrorCode.InvalidUtf8String, Assert.Throws<MqttProtocolException>(() => MqttCodecSamples.Encode(w => MqttPacketWriter.WriteConnect(w, tooLong))).Code);
        var nul = new MqttConnectPacket { ClientId = "a\0b" };
        Assert.Equal(MqttErrorCode.InvalidUtf8String, Assert.Throws<MqttProtocolException>(() => MqttCodecSamples.Encode(w => MqttPacketWriter.WriteConnect(w, nul))).Code);
    }

    [Fact]
    public void Disconnect_V311MustBeEmpty_V5CarriesReason()
    {
        Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadDisconnect(MqttPacketType.Disconnect, [0x00], MqttProtocolVersion.V311));
        Assert.Throws<MqttProtocolException>(() => MqttPacketReader.ReadDisconnect(MqttPacketType.Auth, [], MqttProtocolVersion.V311));
        MqttDisconnectPacket packet = MqttPacketReader.ReadDisconnect(MqttPacketType.Disconnect, [0x8B, 0x06, 0x1F, 0x00, 0x03, (byte)'b', (byte)'y', (byte)'e'], MqttProtocolVersion.V500);
        Assert.Equal(MqttReasonCode.ServerShuttingDown, packet.ReasonCode);
        Assert.Equal("bye", packet.ReasonString);
    }
}
