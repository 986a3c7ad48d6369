namespace CortexEdge.Sync.Mqtt;

/// <summary>MQTT 5.0 retain handling of a subscription: when the broker sends retained messages.</summary>
public enum MqttRetainHandling : byte
{
    /// <summary>Send retained messages at every subscribe.</summary>
    SendAtSubscribe = 0,

    /// <summary>Send retained messages only when the subscription is new.</summary>
    SendAtSubscribeIfNew = 1,

    /// <summary>Never send retained messages for this subscribe.</summary>
    DoNotSend = 2,
}
