namespace CortexEdge.Sync.Mqtt;

/// <summary>MQTT delivery guarantee of a message or subscription.</summary>
public enum MqttQualityOfService : byte
{
    /// <summary>QoS 0: delivered at most once, no acknowledgement.</summary>
    AtMostOnce = 0,

    /// <summary>QoS 1: delivered at least once (PUBACK).</summary>
    AtLeastOnce = 1,

    /// <summary>QoS 2: delivered exactly once (PUBREC, PUBREL, PUBCOMP).</summary>
    ExactlyOnce = 2,
}
