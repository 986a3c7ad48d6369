namespace CortexEdge.Sync.Mqtt;

/// <summary>An MQTT 5.0 user property: a name and value pair of UTF-8 strings. Ignored under 3.1.1.</summary>
/// <param name="Name">The property name.</param>
/// <param name="Value">The property value.</param>
public readonly record struct MqttUserProperty(string Name, string Value);
