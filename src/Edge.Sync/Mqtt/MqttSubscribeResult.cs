namespace CortexEdge.Sync.Mqtt;

/// <summary>The broker's answer to one topic filter of a SUBSCRIBE or UNSUBSCRIBE.</summary>
/// <param name="TopicFilter">The filter.</param>
/// <param name="ReasonCode">Granted QoS (Success, GrantedQoS1, GrantedQoS2) or a failure (0x80 and above); for UNSUBSCRIBE, Success or NoSubscriptionExisted.</param>
public readonly record struct MqttSubscribeResult(string TopicFilter, MqttReasonCode ReasonCode)
{
    /// <summary>True when the broker accepted the filter.</summary>
    public bool Succeeded => (byte)ReasonCode < 0x80;
}
