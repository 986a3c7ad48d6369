using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Tests.Infrastructure;
using static CortexEdge.Sync.Tests.Mqtt.MqttTestSupport;

namespace CortexEdge.Sync.Tests.Mqtt;

/// <summary>The client against a real mosquitto: interop with mosquitto_pub/sub, QoS, retained, Will, limits, auth, unsubscribe.</summary>
public sealed class MqttClientBrokerTests : IAsyncLifetime
{
    private MosquittoBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await MosquittoBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    public static TheoryData<MqttProtocolVersion, int> VersionsAndQos()
    {
        var data = new TheoryData<MqttProtocolVersion, int>();
        foreach (MqttProtocolVersion version in new[] { MqttProtocolVersion.V311, MqttProtocolVersion.V500 })
        {
            for (int qos = 0; qos <= 2; qos++)
            {
                data.Add(version, qos);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(VersionsAndQos))]
    public async Task PublishAsync_ToMosquittoSub_DeliversEveryMessageInOrder(MqttProtocolVersion version, int qos)
    {
        string topic = UniqueTopic("to-sub");
        const int Count = 20;
        (Task<string[]> lines, System.Diagnostics.Process process) = await StartMosquittoSubAsync(_broker, topic, qos, Count, version);
        using (process)
        {
            await using MqttClient client = await ConnectAsync(_broker, version);
            Assert.Equal(version, client.ConnectResult!.ProtocolVersion);
            for (int i = 0; i < Count; i++)
            {
                await client.PublishAsync(topic, Utf8($"m{i}"), (MqttQualityOfService)qos);
            }

            string[] received = await lines.WaitAsync(ReceiveTimeout);
            Assert.Equal(Enumerable.Range(0, Count).Select(i => $"m{i}"), received);
        }
    }

    [Theory]
    [MemberData(nameof(VersionsAndQos))]
    public async Task MosquittoPub_ToSubscribedClient_DeliversAtTheGrantedQos(MqttProtocolVersion version, int qos)
    {
        string topic = UniqueTopic("from-pub");
        await using MqttClient client = await ConnectAsync(_broker, version);
        MqttQualityOfService granted = await client.SubscribeAsync(topic, (MqttQualityOfService)qos);
        Assert.Equal((MqttQualityOfService)qos, granted);

        for (int i = 0; i < 5; i++)
        {
            MosquittoPub(_broker.Port, topic, $"hello {i}", qos, version);
        }

        for (int i = 0; i < 5; i++)
        {
            MqttMessage message = await ReceiveAsync(client);
            Assert.Equal(topic, message.Topic);
            Assert.Equal($"hello {i}", message.GetPayloadAsString());
            Assert.Equal((MqttQualityOfService)qos, message.QualityOfService);
            Assert.False(message.Retain);
        }
    }

    [Theory]
    [MemberData(nameof(VersionsAndQos))]
    public async Task PublishAsync_ClientToClient_EveryQosArrivesOnceAndInOrder(MqttProtocolVersion version, int qos)
    {
        string topic = UniqueTopic("c2c");
        await using MqttClient subscriber = await ConnectAsync(_broker, version);
        await subscriber.SubscribeAsync(topic + "/#", MqttQualityOfService.ExactlyOnce);
        await using MqttClient publisher = await ConnectAsync(_broker, version);

        const int Count = 200;
        var pending = new List<ValueTask>();
        for (int i = 0; i < Count; i++)
        {
            pending.Add(publisher.PublishAsync($"{topic}/{i % 3}", Utf8(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), (MqttQualityOfService)qos));
        }

        foreach (ValueTask publish in pending)
        {
            await publish;
        }

        Assert.Equal(0, publisher.InflightCount);
        for (int i = 0; i < Count; i++)
        {
            MqttMessage message = await ReceiveAsync(subscriber);
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), message.GetPayloadAsString());
            Assert.Equal($"{topic}/{i % 3}", message.Topic);
        }

        Assert.True(await NothingReceivedAsync(subscriber, TimeSpan.FromMilliseconds(300)), "a message arrived twice");
    }

    [Fact]
    public async Task ManualAcknowledgement_V5_BrokerSendsUpToReceiveMaximumUnacknowledged_AndRedeliversOnlyWhatWasNotAcknowledged()
    {
        string topic = UniqueTopic("manual-ack");
        MqttClientOptions Session(bool manual) => _broker.PersistentSessionOptions("ce-manual-ack", manual);

        var subscriber = await ConnectAsync(Session(manual: true));
        await subscriber.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await using MqttClient publisher = await ConnectAsync(_broker);
        const int Count = 200; // mosquitto's max_inflight_messages is 20: MQTT 5.0's Receive Maximum lifts it
        for (int i = 0; i < Count; i++)
        {
            await publisher.PublishAsync(topic, Utf8(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), MqttQualityOfService.AtLeastOnce);
        }

        var received = new List<MqttMessage>();
        for (int i = 0; i < Count; i++)
        {
            received.Add(await ReceiveAsync(subscriber));
        }

        Assert.Equal(Enumerable.Range(0, Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), received.Select(m => m.GetPayloadAsString()));
        Assert.All(received.Take(150), message => Assert.True(message.Acknowledge()));
        Assert.True(received[0].Acknowledge()); // again: nothing more is sent
        await subscriber.DisposeAsync();

        await using MqttClient next = await ConnectAsync(Session(manual: false));
        var redelivered = new List<string>();
        for (int i = 0; i < Count - 150; i++)
        {
            redelivered.Add((await ReceiveAsync(next)).GetPayloadAsString());
        }

        Assert.Equal(Enumerable.Range(150, Count - 150).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), redelivered);
        Assert.True(await NothingReceivedAsync(next, TimeSpan.FromMilliseconds(500)), "an acknowledged message came back");
    }

    [Fact]
    public async Task ManualAcknowledgement_V311_AcknowledgesOnDelivery_SoTheBrokersInflightLimitCannotStallIt()
    {
        string topic = UniqueTopic("manual-ack-311");
        await using MqttClient subscriber = await ConnectAsync(new MqttClientOptions { Host = _broker.Host, Port = _broker.Port, ProtocolVersion = MqttProtocolVersion.V311, ManualAcknowledgement = true });
        await subscriber.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await using MqttClient publisher = await ConnectAsync(_broker);
        for (int i = 0; i < 100; i++)
        {
            await publisher.PublishAsync(topic, Utf8(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), MqttQualityOfService.AtLeastOnce);
        }

        // Nothing acknowledged by the application, yet all 100 arrive past mosquitto's 20 in flight.
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), (await ReceiveAsync(subscriber)).GetPayloadAsString());
        }
    }

    [Fact]
    public async Task PublishAsync_V5UserPropertiesAndContentType_ArriveAtTheSubscriber()
    {
        string topic = UniqueTopic("props");
        await using MqttClient subscriber = await ConnectAsync(_broker);
        await subscriber.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await using MqttClient publisher = await ConnectAsync(_broker);
        var properties = new MqttPublishProperties
        {
            ContentType = "application/x-ce",
            UserProperties = [new("node", "edge-7"), new("batch", "42")],
            CorrelationData = new byte[] { 1, 2, 3 },
        };
        await publisher.PublishAsync(topic, Utf8("x"), MqttQualityOfService.AtLeastOnce, retain: false, properties);

        MqttMessage message = await ReceiveAsync(subscriber);
        Assert.NotNull(message.Properties);
        Assert.Equal("application/x-ce", message.Properties!.ContentType);
        Assert.Equal([new("node", "edge-7"), new("batch", "42")], message.Properties.UserProperties!);
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Properties.CorrelationData!.Value.ToArray());
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Retained_NewSubscriber_ReceivesLastRetainedMessageWithRetainFlag(MqttProtocolVersion version)
    {
        string topic = UniqueTopic("retained");
        await using (MqttClient publisher = await ConnectAsync(_broker, version))
        {
            await publisher.PublishAsync(topic, Utf8("old"), MqttQualityOfService.AtLeastOnce, retain: true);
            await publisher.PublishAsync(topic, Utf8("current"), MqttQualityOfService.AtLeastOnce, retain: true);
        }

        await using MqttClient subscriber = await ConnectAsync(_broker, version);
        await subscriber.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        MqttMessage message = await ReceiveAsync(subscriber);
        Assert.Equal("current", message.GetPayloadAsString());
        Assert.True(message.Retain);
        Assert.True(await NothingReceivedAsync(subscriber, TimeSpan.FromMilliseconds(300)));
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Will_AbruptConnectionLoss_BrokerPublishesRetainedWill_ButNotOnCleanDisconnect(MqttProtocolVersion version)
    {
        string presence = UniqueTopic("presence");
        await using var relay = new TcpRelay(_broker.Host, _broker.Port);
        MqttClientOptions WithWill(string payload) => new()
        {
            Host = "127.0.0.1",
            Port = relay.Port,
            ProtocolVersion = version,
            AutoReconnect = false,
            Will = new MqttWillMessage(presence, Utf8(payload), MqttQualityOfService.AtLeastOnce, retain: true),
        };

        // A clean DISCONNECT must not trigger the Will.
        MqttClient polite = await ConnectAsync(WithWill("polite-offline"));
        await polite.PublishAsync(presence, Utf8("online"), MqttQualityOfService.AtLeastOnce, retain: true);
        await polite.DisposeAsync();

        MqttClient device = await ConnectAsync(WithWill("offline"));
        await device.PublishAsync(presence, Utf8("online"), MqttQualityOfService.AtLeastOnce, retain: true);
        relay.AbortAll();
        await EventuallyAsync(() => device.State == MqttConnectionState.Disconnected, "the client notices the reset");

        // A late subscriber sees the retained Will: presence survives the device.
        await using MqttClient observer = await ConnectAsync(_broker, version);
        await observer.SubscribeAsync(presence, MqttQualityOfService.AtLeastOnce);
        MqttMessage message = await ReceiveAsync(observer);
        Assert.Equal("offline", message.GetPayloadAsString());
        Assert.True(message.Retain);
        await device.DisposeAsync();
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task UnsubscribeAsync_StopsDelivery(MqttProtocolVersion version)
    {
        string topic = UniqueTopic("unsub");
        await using MqttClient client = await ConnectAsync(_broker, version);
        await client.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await client.PublishAsync(topic, Utf8("before"), MqttQualityOfService.AtLeastOnce);
        Assert.Equal("before", (await ReceiveAsync(client)).GetPayloadAsString());

        await client.UnsubscribeAsync(topic);
        await client.PublishAsync(topic, Utf8("after"), MqttQualityOfService.AtLeastOnce);
        Assert.True(await NothingReceivedAsync(client, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task SubscribeAsync_InvalidFilter_ThrowsBeforeSending()
    {
        await using MqttClient client = await ConnectAsync(_broker);
        var error = await Assert.ThrowsAsync<MqttProtocolException>(() => client.SubscribeAsync("a/#/b"));
        Assert.Equal(MqttErrorCode.InvalidTopicFilter, error.Code);
        Assert.Equal(MqttConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task PublishAsync_WildcardTopic_FailsWithInvalidTopicName()
    {
        await using MqttClient client = await ConnectAsync(_broker);
        var error = await Assert.ThrowsAsync<MqttProtocolException>(async () => await client.PublishAsync("a/+/b", Utf8("x")));
        Assert.Equal(MqttErrorCode.InvalidTopicName, error.Code);
    }

    [Fact]
    public async Task PublishAsync_BeforeConnect_FailsWithNotConnected()
    {
        await using var client = new MqttClient(Options(_broker.Port));
        var error = await Assert.ThrowsAsync<MqttException>(async () => await client.PublishAsync("a", Utf8("x")));
        Assert.Equal(MqttErrorCode.NotConnected, error.Code);
    }

    [Fact]
    public async Task StateChanged_ConnectAndDispose_RaisedInOrder()
    {
        var states = new List<MqttConnectionState>();
        var client = new MqttClient(Options(_broker.Port));
        client.ConnectionStateChanged += (_, e) =>
        {
            lock (states)
            {
                states.Add(e.State);
            }
        };
        await client.ConnectAsync();
        await client.DisposeAsync();
        Assert.Equal([MqttConnectionState.Connecting, MqttConnectionState.Connected, MqttConnectionState.Disconnected, MqttConnectionState.Disposed], states);
        Assert.False(await client.Messages.WaitToReadAsync(), "Messages completes at dispose");
    }

    [Fact]
    public async Task Messages_SlowReader_BackpressureLosesNothing()
    {
        string topic = UniqueTopic("slow");
        await using MqttClient subscriber = await ConnectAsync(new MqttClientOptions
        {
            Host = "127.0.0.1",
            Port = _broker.Port,
            ReceiveQueueCountMax = 4,
        });
        await subscriber.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await using MqttClient publisher = await ConnectAsync(_broker);
        const int Count = 300;
        for (int i = 0; i < Count; i++)
        {
            await publisher.PublishAsync(topic, Utf8(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), MqttQualityOfService.AtLeastOnce);
        }

        await Task.Delay(300); // the channel is full now; the reader stopped reading
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), (await ReceiveAsync(subscriber)).GetPayloadAsString());
        }

        Assert.Equal(MqttConnectionState.Connected, subscriber.State);
    }
}
