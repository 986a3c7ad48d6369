using CortexEdge.Agent.Configuration;
using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Agent.Daemon;

/// <summary>Turns a broker section of the configuration into MQTT client options.</summary>
public static class BrokerConnection
{
    /// <summary>Client options for <paramref name="broker"/>, reading the password file if one is named.</summary>
    /// <param name="broker">The broker section.</param>
    /// <param name="clientId">The MQTT client id.</param>
    /// <param name="persistentSession">Keep the session (subscriptions, unacknowledged messages) across disconnects for a week.</param>
    /// <param name="manualAcknowledgement">Acknowledge QoS 1 messages only when the application says so (<see cref="MqttClientOptions.ManualAcknowledgement"/>).</param>
    /// <exception cref="IOException">The password file cannot be read.</exception>
    public static MqttClientOptions ToMqttOptions(BrokerConfig broker, string clientId, bool persistentSession, bool manualAcknowledgement = false)
    {
        return new MqttClientOptions
        {
            Host = broker.Host,
            Port = broker.Port,
            ClientId = clientId,
            Username = broker.Username,
            Password = broker.PasswordFile is null ? null : File.ReadAllText(broker.PasswordFile).Trim(),
            KeepAlive = TimeSpan.FromSeconds(broker.KeepAliveSeconds),
            CleanSession = !persistentSession,
            SessionExpiryIntervalSeconds = persistentSession ? 7 * 24 * 3600 : null,
            ManualAcknowledgement = manualAcknowledgement,
            Tls = broker.Tls is { } tls ? new MqttTlsOptions { CaFile = tls.CaFile, ClientCertificateFile = tls.CertFile, ClientKeyFile = tls.KeyFile } : null,
        };
    }
}
