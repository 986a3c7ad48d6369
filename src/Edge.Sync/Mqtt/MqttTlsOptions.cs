using System.Security.Authentication;

namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// TLS settings of a broker connection (SslStream). With <see cref="CaFile"/> the broker's
/// certificate must chain to that CA (and only that CA); without it the system trust store is used.
/// The host name is always checked against the certificate.
/// </summary>
public sealed class MqttTlsOptions
{
    /// <summary>PEM file of the CA certificate(s) the broker's certificate must chain to; null for the system trust store.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM file of the client certificate presented to the broker; null for none.</summary>
    public string? ClientCertificateFile { get; init; }

    /// <summary>PEM file of the client certificate's private key; null when it is inside <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientKeyFile { get; init; }

    /// <summary>Name expected in the broker's certificate; null to use the connection's host.</summary>
    public string? TargetHost { get; init; }

    /// <summary>TLS versions allowed; <see cref="SslProtocols.None"/> lets the system choose.</summary>
    public SslProtocols EnabledProtocols { get; init; } = SslProtocols.None;
}
