namespace CortexEdge.Sync.Mqtt;

/// <summary>Where an <see cref="MqttClient"/> is in its connection life cycle.</summary>
public enum MqttConnectionState
{
    /// <summary>Not connected and not trying (never connected, DisconnectAsync called, or reconnect gave up).</summary>
    Disconnected = 0,

    /// <summary>ConnectAsync is under way.</summary>
    Connecting = 1,

    /// <summary>Connected; CONNACK accepted the session.</summary>
    Connected = 2,

    /// <summary>The connection was lost; the client is reconnecting with backoff. Publishes queue meanwhile.</summary>
    Reconnecting = 3,

    /// <summary>The client was disposed.</summary>
    Disposed = 4,
}
