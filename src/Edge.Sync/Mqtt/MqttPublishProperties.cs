namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// MQTT 5.0 properties of an application message (PUBLISH or Will). All optional; under MQTT 3.1.1
/// they are not sent. Immutable once built; safe to share between publishes.
/// </summary>
public sealed class MqttPublishProperties
{
    /// <summary>True when the payload is UTF-8 text (payload format indicator 1); null when unspecified.</summary>
    public bool? PayloadIsUtf8 { get; init; }

    /// <summary>Lifetime of the message in seconds at the broker; null for no expiry.</summary>
    public uint? MessageExpiryIntervalSeconds { get; init; }

    /// <summary>MIME-like content type of the payload.</summary>
    public string? ContentType { get; init; }

    /// <summary>Topic name for a response (request/response pattern).</summary>
    public string? ResponseTopic { get; init; }

    /// <summary>Data correlating a response with its request.</summary>
    public ReadOnlyMemory<byte>? CorrelationData { get; init; }

    /// <summary>User properties, in order.</summary>
    public IReadOnlyList<MqttUserProperty>? UserProperties { get; init; }

    /// <summary>Subscription identifiers of the matching subscriptions (received messages only).</summary>
    public IReadOnlyList<int>? SubscriptionIdentifiers { get; init; }

    internal bool IsEmpty =>
        PayloadIsUtf8 is null && MessageExpiryIntervalSeconds is null && ContentType is null && ResponseTopic is null &&
        CorrelationData is null && (UserProperties is null || UserProperties.Count == 0) && (SubscriptionIdentifiers is null || SubscriptionIdentifiers.Count == 0);

    internal void Write(MqttBufferWriter block)
    {
        if (PayloadIsUtf8 is bool utf8)
        {
            MqttPropertyWriter.WriteByte(block, MqttPropertyId.PayloadFormatIndicator, utf8 ? (byte)1 : (byte)0);
        }

        if (MessageExpiryIntervalSeconds is uint expiry)
        {
            MqttPropertyWriter.WriteUInt32(block, MqttPropertyId.MessageExpiryInterval, expiry);
        }

        MqttPropertyWriter.WriteString(block, MqttPropertyId.ContentType, ContentType);
        if (ResponseTopic is not null)
        {
            MqttTopic.ValidateTopicName(ResponseTopic);
            MqttPropertyWriter.WriteString(block, MqttPropertyId.ResponseTopic, ResponseTopic);
        }

        MqttPropertyWriter.WriteBinary(block, MqttPropertyId.CorrelationData, CorrelationData);
        if (SubscriptionIdentifiers is not null)
        {
            foreach (int identifier in SubscriptionIdentifiers)
            {
                MqttPropertyWriter.WriteVariableByteInteger(block, MqttPropertyId.SubscriptionIdentifier, identifier);
            }
        }

        MqttPropertyWriter.WriteUserProperties(block, UserProperties);
    }

    /// <summary>Decodes a PUBLISH or Will property block; returns null for an empty block. Topic aliases are returned separately.</summary>
    internal static MqttPublishProperties? Read(ReadOnlySpan<byte> block, int context, out ushort topicAlias)
    {
        topicAlias = 0;
        if (block.IsEmpty)
        {
            return null;
        }

        bool? utf8 = null;
        uint? expiry = null;
        string? contentType = null;
        string? responseTopic = null;
        byte[]? correlation = null;
        List<MqttUserProperty>? user = null;
        List<int>? subscriptionIds = null;
        var reader = new MqttPropertyReader(block, context);
        while (reader.TryRead(out MqttProperty property))
        {
            switch (property.Id)
            {
                case MqttPropertyId.PayloadFormatIndicator: utf8 = property.Integer == 1; break;
                case MqttPropertyId.MessageExpiryInterval: expiry = property.Integer; break;
                case MqttPropertyId.ContentType: contentType = property.String; break;
                case MqttPropertyId.ResponseTopic:
                    responseTopic = property.String;
                    if (MqttTopic.GetTopicNameError(responseTopic) is string error)
                    {
                        throw new MqttProtocolException(MqttErrorCode.InvalidTopicName, $"Response topic '{responseTopic}' is invalid: {error}.", MqttReasonCode.ProtocolError);
                    }

                    break;
                case MqttPropertyId.CorrelationData: correlation = property.Data.ToArray(); break;
                case MqttPropertyId.UserProperty: (user ??= []).Add(property.UserProperty); break;
                case MqttPropertyId.SubscriptionIdentifier: (subscriptionIds ??= []).Add((int)property.Integer); break;
                case MqttPropertyId.TopicAlias: topicAlias = (ushort)property.Integer; break;
                case MqttPropertyId.WillDelayInterval: break; // read by the CONNECT decoder
                default: break;
            }
        }

        return new MqttPublishProperties
        {
            PayloadIsUtf8 = utf8,
            MessageExpiryIntervalSeconds = expiry,
            ContentType = contentType,
            ResponseTopic = responseTopic,
            CorrelationData = correlation is null ? (ReadOnlyMemory<byte>?)null : correlation,
            UserProperties = user,
            SubscriptionIdentifiers = subscriptionIds,
        };
    }
}
