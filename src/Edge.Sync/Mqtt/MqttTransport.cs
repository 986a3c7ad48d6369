using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace CortexEdge.Sync.Mqtt;

/// <summary>Opens the byte stream to the broker: TCP, then TLS when configured. Errors become <see cref="MqttTransportException"/>.</summary>
internal static class MqttTransport
{
    public static async Task<Stream> ConnectAsync(MqttClientOptions options, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(options.Host, options.Port, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException exception)
        {
            socket.Dispose();
            throw new MqttTransportException(MqttErrorCode.ConnectFailed, $"Could not connect to {options.Host}:{options.Port}: {exception.SocketErrorCode}.", exception);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var network = new NetworkStream(socket, ownsSocket: true);
        if (options.Tls is not MqttTlsOptions tls)
        {
            return network;
        }

        var ssl = new SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            var authentication = new SslClientAuthenticationOptions
            {
                TargetHost = tls.TargetHost ?? options.Host,
                EnabledSslProtocols = tls.EnabledProtocols,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            };
            if (tls.ClientCertificateFile is not null)
            {
                X509Certificate2 certificate = X509Certificate2.CreateFromPemFile(tls.ClientCertificateFile, tls.ClientKeyFile);
                authentication.ClientCertificates = [certificate];
            }

            if (tls.CaFile is not null)
            {
                var roots = new X509Certificate2Collection();
                roots.ImportFromPemFile(tls.CaFile);
                authentication.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ValidateAgainstCa(certificate, errors, roots);
            }

            await ssl.AuthenticateAsClientAsync(authentication, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException or System.Security.Cryptography.CryptographicException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new MqttTransportException(MqttErrorCode.TlsFailed, $"TLS handshake with {options.Host}:{options.Port} failed: {exception.Message}", exception);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static bool ValidateAgainstCa(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        // Trust exactly the configured CA: the system store is not consulted.
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
