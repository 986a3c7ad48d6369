using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Tests.Infrastructure;
using static CortexEdge.Sync.Tests.Mqtt.MqttTestSupport;

namespace CortexEdge.Sync.Tests.Mqtt;

/// <summary>Maximum packet size in both directions, against a real mosquitto.</summary>
public sealed class MqttPacketSizeTests
{
    [Fact]
    public async Task Outbound_LargerThanBrokersMaximum_RejectedBeforeSendingAndConnectionStaysUp()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions { MaxPacketSize = 1024 });
        string topic = UniqueTopic("big");
        await using MqttClient client = await ConnectAsync(broker);
        Assert.Equal(1024u, client.ConnectResult!.MaximumPacketSize);
        await client.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);

        var error = await Assert.ThrowsAsync<MqttProtocolException>(async () => await client.PublishAsync(topic, new byte[2000], MqttQualityOfService.AtLeastOnce));
        Assert.Equal(MqttErrorCode.PacketTooLarge, error.Code);
        Assert.Contains("1024", error.Message);

        await client.PublishAsync(topic, new byte[900], MqttQualityOfService.AtLeastOnce);
        Assert.Equal(900, (await ReceiveAsync(client)).Payload.Length);
        Assert.Equal(MqttConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task Inbound_V5ClientMaximum_BrokerDropsLargerMessagesForThisClient()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        string topic = UniqueTopic("inbound");
        await using MqttClient small = await ConnectAsync(new MqttClientOptions { Host = broker.Host, Port = broker.Port, MaximumPacketSize = 512 });
        await small.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await using MqttClient publisher = await ConnectAsync(broker);
        await publisher.PublishAsync(topic, new byte[2000], MqttQualityOfService.AtLeastOnce);
        await publisher.PublishAsync(topic, new byte[100], MqttQualityOfService.AtLeastOnce);

        MqttMessage message = await ReceiveAsync(small);
        Assert.Equal(100, message.Payload.Length);
        Assert.Equal(MqttConnectionState.Connected, small.State);
    }

    [Fact]
    public async Task Inbound_V311LargerThanClientMaximum_ConnectionClosedWithPacketTooLarge()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        string topic = UniqueTopic("inbound311");
        var lost = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var small = new MqttClient(new MqttClientOptions
        {
            Host = broker.Host,
            Port = broker.Port,
            ProtocolVersion = MqttProtocolVersion.V311,
            MaximumPacketSize = 512,
            AutoReconnect = false,
        });
        small.ConnectionStateChanged += (_, e) =>
        {
            if (e.State == MqttConnectionState.Disconnected)
            {
                lost.TrySetResult(e.Reason);
            }
        };
        await small.ConnectAsync();
        await small.SubscribeAsync(topic, MqttQualityOfService.AtMostOnce);
        MosquittoPub(broker.Port, topic, new string('x', 2000), 0, MqttProtocolVersion.V311);

        Exception? reason = await lost.Task.WaitAsync(TimeSpan.FromSeconds(15));
        var error = Assert.IsType<MqttProtocolException>(reason);
        Assert.Equal(MqttErrorCode.PacketTooLarge, error.Code);
    }
}
