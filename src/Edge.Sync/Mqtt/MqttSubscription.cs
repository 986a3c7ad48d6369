namespace CortexEdge.Sync.Mqtt;

/// <summary>A topic filter and the options it is subscribed with.</summary>
public sealed class MqttSubscription
{
    /// <summary>Creates a subscription; <paramref name="topicFilter"/> must be a valid filter.</summary>
    /// <exception cref="MqttProtocolException">The filter is invalid.</exception>
    public MqttSubscription(string topicFilter, MqttQualityOfService qualityOfService = MqttQualityOfService.AtLeastOnce)
    {
        MqttTopic.ValidateTopicFilter(topicFilter);
        if (qualityOfService > MqttQualityOfService.ExactlyOnce)
        {
            MqttThrow.Options($"QoS {(int)qualityOfService} is not 0, 1 or 2.");
        }

        TopicFilter = topicFilter;
        QualityOfService = qualityOfService;
    }

    /// <summary>The topic filter.</summary>
    public string TopicFilter { get; }

    /// <summary>The maximum QoS asked for.</summary>
    public MqttQualityOfService QualityOfService { get; }

    /// <summary>MQTT 5.0: do not receive messages this client published itself.</summary>
    public bool NoLocal { get; init; }

    /// <summary>MQTT 5.0: keep the RETAIN flag of forwarded messages as published.</summary>
    public bool RetainAsPublished { get; init; }

    /// <summary>MQTT 5.0: when retained messages are sent.</summary>
    public MqttRetainHandling RetainHandling { get; init; }

    internal byte OptionsByte(MqttProtocolVersion version) => version == MqttProtocolVersion.V500
        ? (byte)((byte)QualityOfService | (NoLocal ? 0x04 : 0) | (RetainAsPublished ? 0x08 : 0) | ((byte)RetainHandling << 4))
        : (byte)QualityOfService;
}
