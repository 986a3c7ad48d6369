namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Reads an MQTT 5.0 property block and enforces its rules: known identifiers only, each allowed
/// in the packet at hand, values of the right type and range, no repeats except user properties
/// (and subscription identifiers in PUBLISH).
/// </summary>
internal ref struct MqttPropertyReader
{
    // Bit 0 stands for the Will properties inside CONNECT; bits 1-15 for the packet types.
    public const int WillContext = 0;

    private static readonly ushort[] s_allowed = BuildAllowedTable();
    private MqttSpanReader _reader;
    private readonly int _context;
    private ulong _seen;

    public MqttPropertyReader(ReadOnlySpan<byte> block, int context)
    {
        _reader = new MqttSpanReader(block);
        _context = context;
        _seen = 0;
    }

    /// <summary>Reads the property-length prefix at the reader's position and returns the block.</summary>
    public static ReadOnlySpan<byte> ReadBlock(scoped ref MqttSpanReader reader)
    {
        int length = reader.ReadVariableByteInteger("property length");
        return reader.ReadBytes(length, "properties");
    }

    public bool TryRead(out MqttProperty property)
    {
        if (_reader.End)
        {
            property = default;
            return false;
        }

        int offset = _reader.Position;
        int rawId = _reader.ReadVariableByteInteger("property identifier");
        if (rawId >= 64 || s_allowed[rawId] == 0)
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidProperty, $"Unknown property identifier 0x{rawId:X2} at property offset {offset}.", MqttReasonCode.MalformedPacket);
        }

        var id = (MqttPropertyId)rawId;
        if ((s_allowed[rawId] & (1 << _context)) == 0)
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidProperty, $"Property {id} is not allowed in {ContextName(_context)}.", MqttReasonCode.ProtocolError);
        }

        bool repeatable = id == MqttPropertyId.UserProperty || (id == MqttPropertyId.SubscriptionIdentifier && _context == (int)MqttPacketType.Publish);
        ulong bit = 1UL << rawId;
        if (!repeatable && (_seen & bit) != 0)
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidProperty, $"Property {id} appears more than once in {ContextName(_context)}.", MqttReasonCode.ProtocolError);
        }

        _seen |= bit;
        switch (id)
        {
            case MqttPropertyId.PayloadFormatIndicator:
            case MqttPropertyId.RequestProblemInformation:
            case MqttPropertyId.RequestResponseInformation:
            case MqttPropertyId.MaximumQoS:
            case MqttPropertyId.RetainAvailable:
            case MqttPropertyId.WildcardSubscriptionAvailable:
            case MqttPropertyId.SubscriptionIdentifierAvailable:
            case MqttPropertyId.SharedSubscriptionAvailable:
                {
                    byte value = _reader.ReadByte("property value");
                    if (value > 1)
                    {
                        throw new MqttProtocolException(MqttErrorCode.InvalidProperty, $"Property {id} has value {value}; only 0 or 1 is allowed.", MqttReasonCode.ProtocolError);
                    }

                    property = new MqttProperty(id, value, default, default);
                    return true;
                }

            case MqttPropertyId.ServerKeepAlive:
            case MqttPropertyId.ReceiveMaximum:
            case MqttPropertyId.TopicAliasMaximum:
            case MqttPropertyId.TopicAlias:
                {
                    ushort value = _reader.ReadUInt16("property value");
                    if (value == 0 && id is MqttPropertyId.ReceiveMaximum or MqttPropertyId.TopicAlias)
                    {
                        throw new MqttProtocolException(MqttErrorCode.InvalidProperty, $"Property {id} must not be 0.", MqttReasonCode.ProtocolError);
                    }

                    property = new MqttProperty(id, value, default, default);
                    return true;
                }

            case MqttPropertyId.MessageExpiryInterval:
            case MqttPropertyId.SessionExpiryInterval:
            case MqttPropertyId.WillDelayInterval:
            case MqttPropertyId.MaximumPacketSize:
                {
                    uint value = _reader.ReadUInt32("property value");
                    if (value == 0 && id == MqttPropertyId.MaximumPacketSize)
                    {
                        throw new MqttProtocolException(MqttErrorCode.InvalidProperty, "Property MaximumPacketSize must not be 0.", MqttReasonCode.ProtocolError);
                    }

                    property = new MqttProperty(id, value, default, default);
                    return true;
                }

            case MqttPropertyId.SubscriptionIdentifier:
                {
                    int value = _reader.ReadVariableByteInteger("property value");
                    if (value == 0)
                    {
                        throw new MqttProtocolException(MqttErrorCode.InvalidProperty, "Property SubscriptionIdentifier must not be 0.", MqttReasonCode.ProtocolError);
                    }

                    property = new MqttProperty(id, (uint)value, default, default);
                    return true;
                }

            case MqttPropertyId.CorrelationData:
            case MqttPropertyId.AuthenticationData:
                property = new MqttProperty(id, 0, _reader.ReadBinary("property value"), default);
                return true;

            case MqttPropertyId.UserProperty:
                {
                    ReadOnlySpan<byte> name = _reader.ReadUtf8("user property name");
                    ReadOnlySpan<byte> value = _reader.ReadUtf8("user property value");
                    property = new MqttProperty(id, 0, name, value);
                    return true;
                }

            default:
                // The remaining identifiers all carry UTF-8 strings.
                property = new MqttProperty(id, 0, _reader.ReadUtf8("property value"), default);
                return true;
        }
    }

    private static string ContextName(int context) => context == WillContext ? "the Will properties" : ((MqttPacketType)context).ToString().ToUpperInvariant();

    private static ushort[] BuildAllowedTable()
    {
        const int Will = 1 << WillContext;
        static int P(params MqttPacketType[] types)
        {
            int mask = 0;
            foreach (MqttPacketType type in types)
            {
                mask |= 1 << (int)type;
            }

            return mask;
        }

        var table = new ushort[64];
        void Set(MqttPropertyId id, int mask) => table[(int)id] = (ushort)mask;
        int publishAndWill = P(MqttPacketType.Publish) | Will;
        Set(MqttPropertyId.PayloadFormatIndicator, publishAndWill);
        Set(MqttPropertyId.MessageExpiryInterval, publishAndWill);
        Set(MqttPropertyId.ContentType, publishAndWill);
        Set(MqttPropertyId.ResponseTopic, publishAndWill);
        Set(MqttPropertyId.CorrelationData, publishAndWill);
        Set(MqttPropertyId.SubscriptionIdentifier, P(MqttPacketType.Publish, MqttPacketType.Subscribe));
        Set(MqttPropertyId.SessionExpiryInterval, P(MqttPacketType.Connect, MqttPacketType.ConnAck, MqttPacketType.Disconnect));
        Set(MqttPropertyId.AssignedClientIdentifier, P(MqttPacketType.ConnAck));
        Set(MqttPropertyId.ServerKeepAlive, P(MqttPacketType.ConnAck));
        Set(MqttPropertyId.AuthenticationMethod, P(MqttPacketType.Connect, MqttPacketType.ConnAck, MqttPacketType.Auth));
        Set(MqttPropertyId.AuthenticationData, P(MqttPacketType.Connect, MqttPacketType.ConnAck, MqttPacketType.Auth));
        Set(MqttPropertyId.RequestProblemInformation, P(MqttPacketType.Connect));
        Set(MqttPropertyId.WillDelayInterval, Will);
        Set(MqttPropertyId.RequestResponseInformation, P(MqttPacketType.Connect));
        Set(MqttPropertyId.ResponseInformation, P(MqttPacketType.ConnAck));
        Set(MqttPropertyId.ServerReference, P(MqttPacketType.ConnAck, MqttPacketType.Disconnect));
        Set(MqttPropertyId.ReasonString, P(
            MqttPacketType.ConnAck, MqttPacketType.PubAck, MqttPacketType.PubRec, MqttPacketType.PubRel, MqttPacketType.PubComp,
            MqttPacketType.SubAck, MqttPacketType.UnsubAck, MqttPacketType.Disconnect, MqttPacketType.Auth));
        Set(MqttPropertyId.ReceiveMaximum, P(MqttPacketType.Connect, MqttPacketType.ConnAck));
        Set(MqttPropertyId.TopicAliasMaximum, P(MqttPacketType.Connect, MqttPacketType.ConnAck));
        Set(MqttPropertyId.TopicAlias, P(MqttPacketType.Publish));
        Set(MqttPropertyId.MaximumQoS, P(MqttPacketType.ConnAck));
        Set(MqttPropertyId.RetainAvailable, P(MqttPacketType.ConnAck));
        Set(MqttPropertyId.UserProperty, 0xFFFF & ~P(MqttPacketType.PingReq, MqttPacketType.PingResp));
        Set(MqttPropertyId.MaximumPacketSize, P(MqttPacketType.Connect, MqttPacketType.ConnAck));
        Set(MqttPropertyId.WildcardSubscriptionAvailable, P(MqttPacketType.ConnAck));
        Set(MqttPropertyId.SubscriptionIdentifierAvailable, P(MqttPacketType.ConnAck));
        Set(MqttPropertyId.SharedSubscriptionAvailable, P(MqttPacketType.ConnAck));
        return table;
    }
}
