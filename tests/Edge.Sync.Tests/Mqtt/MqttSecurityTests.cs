using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Tests.Infrastructure;
using static CortexEdge.Sync.Tests.Mqtt.MqttTestSupport;

namespace CortexEdge.Sync.Tests.Mqtt;

/// <summary>TLS (CA file, client certificate) and username/password against a real mosquitto with certificates made by openssl.</summary>
public sealed class MqttSecurityTests
{
    private static MosquittoTlsMaterial Tls => MosquittoTlsMaterial.Shared;

    [Fact]
    public async Task Tls_TrustedCaAndClientCertificate_ConnectsAndRoundTrips()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions { Tls = Tls, RequireClientCertificate = true });
        string topic = UniqueTopic("tls");
        await using MqttClient client = await ConnectAsync(new MqttClientOptions
        {
            Host = broker.Host,
            Port = broker.Port,
            Tls = new MqttTlsOptions { CaFile = Tls.CaFile, ClientCertificateFile = Tls.ClientCertificateFile, ClientKeyFile = Tls.ClientKeyFile },
        });
        await client.SubscribeAsync(topic, MqttQualityOfService.ExactlyOnce);
        await client.PublishAsync(topic, Utf8("over tls"), MqttQualityOfService.ExactlyOnce);
        Assert.Equal("over tls", (await ReceiveAsync(client)).GetPayloadAsString());
    }

    [Fact]
    public async Task Tls_WrongCa_RefusedWithTlsFailed()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions { Tls = Tls });
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = broker.Host,
            Port = broker.Port,
            Tls = new MqttTlsOptions { CaFile = Tls.OtherCaFile },
        });
        var error = await Assert.ThrowsAsync<MqttTransportException>(() => client.ConnectAsync());
        Assert.Equal(MqttErrorCode.TlsFailed, error.Code);
    }

    [Fact]
    public async Task Tls_ClientCertificateRequiredButMissing_ConnectionFails()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions { Tls = Tls, RequireClientCertificate = true });
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = broker.Host,
            Port = broker.Port,
            Tls = new MqttTlsOptions { CaFile = Tls.CaFile },
            AllowProtocolFallback = false,
        });
        var error = await Assert.ThrowsAsync<MqttTransportException>(() => client.ConnectAsync());
        Assert.Contains(error.Code, new[] { MqttErrorCode.TlsFailed, MqttErrorCode.ConnectionLost });
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Password_WrongPassword_RefusedWithTheBrokersReason_RightPasswordConnects(MqttProtocolVersion version)
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions
        {
            Users = new Dictionary<string, string> { ["edge-7"] = "s3cret" },
        });
        MqttClientOptions With(string password) => new()
        {
            Host = broker.Host,
            Port = broker.Port,
            ProtocolVersion = version,
            Username = "edge-7",
            Password = password,
        };

        await using (var wrong = new MqttClient(With("guess")))
        {
            var error = await Assert.ThrowsAsync<MqttException>(() => wrong.ConnectAsync());
            Assert.Equal(MqttErrorCode.ConnectionRefused, error.Code);
            // mosquitto answers 3.1.1 with return code 5 (not authorised) and 5.0 with 0x86 or 0x87.
            Assert.Contains(error.ReasonCode, new MqttReasonCode?[] { MqttReasonCode.BadUserNameOrPassword, MqttReasonCode.NotAuthorized });
            Assert.Contains(error.ReasonCode!.Value.ToString(), error.Message);
        }

        await using MqttClient right = await ConnectAsync(With("s3cret"));
        Assert.Equal(MqttConnectionState.Connected, right.State);
    }

    [Fact]
    public async Task Acl_PublishOutsideGrant_V5BrokerRefusesQos1WithReason()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions
        {
            Users = new Dictionary<string, string> { ["edge-7"] = "pw" },
            AclLines = ["user edge-7", "topic readwrite ce/allowed/#"],
        });
        await using MqttClient client = await ConnectAsync(new MqttClientOptions { Host = broker.Host, Port = broker.Port, Username = "edge-7", Password = "pw" });
        await client.PublishAsync("ce/allowed/x", Utf8("ok"), MqttQualityOfService.AtLeastOnce);
        var error = await Assert.ThrowsAsync<MqttException>(async () => await client.PublishAsync("ce/forbidden/x", Utf8("no"), MqttQualityOfService.AtLeastOnce));
        Assert.Equal(MqttErrorCode.PublishRefused, error.Code);
        Assert.Equal(MqttReasonCode.NotAuthorized, error.ReasonCode);

        // mosquitto 2.0 also drops the connection after the refusal; the client comes back by itself.
        await EventuallyAsync(() => client.State == MqttConnectionState.Connected, "the client is connected again");
        await client.PublishAsync("ce/allowed/y", Utf8("still ok"), MqttQualityOfService.AtLeastOnce);
    }
}
