namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// The link to the broker failed: TCP connect, TLS handshake, a read or write, or keep-alive. The
/// inner exception, when present, is the socket or TLS error that caused it.
/// </summary>
public sealed class MqttTransportException : MqttException
{
    /// <summary>Creates a transport error naming the endpoint and what failed.</summary>
    public MqttTransportException(MqttErrorCode code, string message, Exception? innerException = null)
        : base(code, message, null, innerException)
    {
    }
}
