namespace CortexEdge.Sync.Mqtt;

/// <summary>A change of <see cref="MqttClient.State"/>.</summary>
public sealed class MqttConnectionStateChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public MqttConnectionStateChangedEventArgs(MqttConnectionState previousState, MqttConnectionState state, Exception? reason, DateTimeOffset timestamp)
    {
        PreviousState = previousState;
        State = state;
        Reason = reason;
        Timestamp = timestamp;
    }

    /// <summary>The state before the change.</summary>
    public MqttConnectionState PreviousState { get; }

    /// <summary>The new state.</summary>
    public MqttConnectionState State { get; }

    /// <summary>Why the connection was lost or refused (an <see cref="MqttException"/>), or null.</summary>
    public Exception? Reason { get; }

    /// <summary>When the client changed state (UTC).</summary>
    public DateTimeOffset Timestamp { get; }
}
