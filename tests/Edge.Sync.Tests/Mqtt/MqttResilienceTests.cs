using System.Diagnostics;
using System.Globalization;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Tests.Infrastructure;
using Xunit.Abstractions;
using static CortexEdge.Sync.Tests.Mqtt.MqttTestSupport;

namespace CortexEdge.Sync.Tests.Mqtt;

/// <summary>Broker restarts, dead links, reconnect with backoff, resubscription and the bounded queue, against a real mosquitto.</summary>
public sealed class MqttResilienceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task PersistentSession_BrokerRestartDuringQos1Stream_EveryMessageArrivesInOrderAndEveryCompletedPublishIsReceived(MqttProtocolVersion version)
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions { Persistence = true });
        string topic = UniqueTopic("stream");
        MqttClientOptions Persistent(string id) => new()
        {
            Host = broker.Host,
            Port = broker.Port,
            ProtocolVersion = version,
            ClientId = id,
            CleanSession = false,
            KeepAlive = TimeSpan.FromSeconds(5),
            ReconnectDelayMin = TimeSpan.FromMilliseconds(50),
            ReconnectDelayMax = TimeSpan.FromMilliseconds(500),
            OutgoingQueueCountMax = 20_000,
        };

        const int Count = 10_000;
        await using MqttClient subscriber = await ConnectAsync(Persistent("ce-sub-" + version));
        await subscriber.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await using MqttClient publisher = await ConnectAsync(Persistent("ce-pub-" + version));

        var seen = new bool[Count];
        int firstTimeCount = 0;
        int duplicates = 0;
        int expectedNext = 0;
        string? orderError = null;
        Task receiving = Task.Run(async () =>
        {
            while (firstTimeCount < Count)
            {
                MqttMessage message = await ReceiveAsync(subscriber, TimeSpan.FromSeconds(60));
                int n = int.Parse(message.GetPayloadAsString(), CultureInfo.InvariantCulture);
                if (seen[n])
                {
                    duplicates++;
                    continue;
                }

                // First occurrences must come in publish order with no gap (duplicates may repeat older ones).
                if (n != expectedNext && orderError is null)
                {
                    orderError = $"message {n} arrived first-time while {expectedNext} was expected";
                }

                seen[n] = true;
                expectedNext = n + 1;
                firstTimeCount++;
            }
        });

        var completed = new bool[Count];
        var inFlight = new Queue<(int Index, ValueTask Publish)>();
        bool restarted = false;
        for (int i = 0; i < Count; i++)
        {
            inFlight.Enqueue((i, publisher.PublishAsync(topic, Utf8(i.ToString(CultureInfo.InvariantCulture)), MqttQualityOfService.AtLeastOnce)));
            if (inFlight.Count >= 200)
            {
                (int index, ValueTask publish) = inFlight.Dequeue();
                await publish;
                completed[index] = true;
            }

            if (i == Count / 2 && !restarted)
            {
                // SIGTERM: mosquitto saves sessions and queued messages, then the same port comes back.
                restarted = true;
                await broker.StopAsync();
                await Task.Delay(300);
                await broker.RestartAsync();
            }
        }

        while (inFlight.Count > 0)
        {
            (int index, ValueTask publish) = inFlight.Dequeue();
            await publish;
            completed[index] = true;
        }

        await receiving.WaitAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"{version}: {Count} distinct messages received, {duplicates} duplicates after the restart");
        Assert.True(orderError is null, orderError);
        Assert.All(Enumerable.Range(0, Count), i => Assert.True(!completed[i] || seen[i], $"publish {i} completed but was never received"));
        Assert.Equal(Count, firstTimeCount);
        Assert.Equal(MqttConnectionState.Connected, publisher.State);
    }

    [Fact]
    public async Task ManualAcknowledgement_BrokerRestartWhileMessagesAreHeld_NoneArrivesTwiceAndTheLateAcknowledgementsHold()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions { Persistence = true });
        string topic = UniqueTopic("held");
        var client = await ConnectAsync(broker.PersistentSessionOptions("ce-held", manualAcknowledgement: true));
        await client.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await using MqttClient publisher = await ConnectAsync(broker);
        for (int i = 0; i < 30; i++)
        {
            await publisher.PublishAsync(topic, Utf8(i.ToString(CultureInfo.InvariantCulture)), MqttQualityOfService.AtLeastOnce);
        }

        var held = new List<MqttMessage>();
        for (int i = 0; i < 30; i++)
        {
            held.Add(await ReceiveAsync(client));
        }

        Assert.All(held.Take(10), message => Assert.True(message.Acknowledge()));
        await Task.Delay(200); // the ten PUBACKs reach the broker before it stops
        await broker.StopAsync();
        Assert.All(held.Skip(10).Take(10), message => Assert.True(message.Acknowledge())); // while reconnecting
        await broker.RestartAsync();
        await EventuallyAsync(() => client.State == MqttConnectionState.Connected, "the client reconnects");
        Assert.True(client.ConnectResult!.SessionPresent);
        // The broker resent the 20 unacknowledged ones: none reaches the application again.
        Assert.True(await NothingReceivedAsync(client, TimeSpan.FromMilliseconds(500)), "a held message was delivered twice");
        Assert.All(held.Skip(20), message => Assert.True(message.Acknowledge()));
        await client.DisposeAsync();

        // Every acknowledgement held: the next session gets nothing back.
        await using MqttClient next = await ConnectAsync(broker.PersistentSessionOptions("ce-held", manualAcknowledgement: false));
        Assert.True(await NothingReceivedAsync(next, TimeSpan.FromMilliseconds(500)), "an acknowledged message came back");
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Qos2_BrokerResendsWithDupAfterLostPubrec_DeliveredExactlyOnce(MqttProtocolVersion version)
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync(new MosquittoBrokerOptions { ExtraConfig = ["log_type debug"] });
        await using var relay = new TcpRelay(broker.Host, broker.Port);
        string topic = UniqueTopic("qos2dup");
        await using MqttClient subscriber = await ConnectAsync(new MqttClientOptions
        {
            Host = "127.0.0.1",
            Port = relay.Port,
            ProtocolVersion = version,
            ClientId = "ce-qos2-" + version,
            CleanSession = false,
            ReconnectDelayMin = TimeSpan.FromMilliseconds(50),
            ReconnectDelayMax = TimeSpan.FromMilliseconds(200),
        });
        await subscriber.SubscribeAsync(topic, MqttQualityOfService.ExactlyOnce);
        await using MqttClient publisher = await ConnectAsync(broker, version);

        // The subscriber gets the PUBLISH and answers PUBREC, but the PUBREC never reaches the broker.
        relay.DropClientToBroker = true;
        await publisher.PublishAsync(topic, Utf8("exactly once"), MqttQualityOfService.ExactlyOnce);
        MqttMessage first = await ReceiveAsync(subscriber);
        Assert.Equal("exactly once", first.GetPayloadAsString());
        await Task.Delay(200);

        // Reconnect with the session kept: the broker must resend the PUBLISH with DUP set, and the
        // client must acknowledge it without delivering it again (MQTT 4.3.3, method B).
        relay.DropClientToBroker = false;
        Task reconnected = WhenReconnectedAsync(subscriber);
        relay.AbortAll();
        await reconnected;
        Assert.True(subscriber.ConnectResult!.SessionPresent);
        await publisher.PublishAsync(topic, Utf8("next"), MqttQualityOfService.ExactlyOnce);
        Assert.Equal("next", (await ReceiveAsync(subscriber)).GetPayloadAsString());
        Assert.True(await NothingReceivedAsync(subscriber, TimeSpan.FromMilliseconds(300)), "a QoS 2 message was delivered twice");
        // The broker's debug log proves the duplicate was really sent ("Sending PUBLISH to ... (d1, q2, ...").
        Assert.Contains("(d1, q2", broker.ReadLog(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeepAlive_BrokerSilentlyStopped_DeadLinkDetectedWithinOneAndAHalfKeepAlives()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        var keepAlive = TimeSpan.FromSeconds(4);
        var lost = new TaskCompletionSource<MqttConnectionStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new MqttClient(Options(broker.Port) is var o ? new MqttClientOptions
        {
            Host = o.Host,
            Port = o.Port,
            KeepAlive = keepAlive,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            ReconnectDelayMin = TimeSpan.FromMilliseconds(100),
            ReconnectDelayMax = TimeSpan.FromMilliseconds(500),
        } : null!);
        client.ConnectionStateChanged += (_, e) =>
        {
            if (e.State == MqttConnectionState.Reconnecting)
            {
                lost.TrySetResult(e);
            }
            else if (e.State == MqttConnectionState.Connected && e.PreviousState == MqttConnectionState.Reconnecting)
            {
                reconnected.TrySetResult();
            }
        };
        await client.ConnectAsync();
        await Task.Delay(keepAlive); // a ping round has happened on a healthy link
        Assert.Equal(MqttConnectionState.Connected, client.State);

        DateTimeOffset pausedAt = DateTimeOffset.UtcNow;
        broker.Pause();
        try
        {
            MqttConnectionStateChangedEventArgs change = await lost.Task.WaitAsync(TimeSpan.FromSeconds(20));
            TimeSpan detection = change.Timestamp - pausedAt;
            output.WriteLine($"dead link detected after {detection.TotalSeconds:0.000} s (keep-alive {keepAlive.TotalSeconds} s)");
            var reason = Assert.IsType<MqttTransportException>(change.Reason);
            Assert.Equal(MqttErrorCode.KeepAliveTimeout, reason.Code);
            Assert.True(detection <= keepAlive * 1.5, $"detection took {detection.TotalSeconds:0.000} s, more than 1.5 x keep-alive");
        }
        finally
        {
            broker.Resume();
        }

        await reconnected.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(MqttConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task Reconnect_BrokerLostTheSession_ResubscribesAndDeliversAgain()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        string topic = UniqueTopic("resub");
        var states = new List<MqttConnectionState>();
        await using var client = new MqttClient(Options(broker.Port));
        client.ConnectionStateChanged += (_, e) =>
        {
            lock (states)
            {
                states.Add(e.State);
            }
        };
        await client.ConnectAsync();
        await client.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);

        await broker.KillAsync(); // no persistence: the broker forgets the subscription
        await EventuallyAsync(() => client.State == MqttConnectionState.Reconnecting, "the client notices the broker is gone");
        await Task.Delay(400); // a few failed attempts with backoff
        await broker.RestartAsync();
        await EventuallyAsync(() => client.State == MqttConnectionState.Connected, "the client reconnects");
        Assert.False(client.ConnectResult!.SessionPresent);

        MosquittoPub(broker.Port, topic, "after restart", 1, MqttProtocolVersion.V500);
        Assert.Equal("after restart", (await ReceiveAsync(client)).GetPayloadAsString());
        lock (states)
        {
            Assert.Equal([MqttConnectionState.Connecting, MqttConnectionState.Connected, MqttConnectionState.Reconnecting, MqttConnectionState.Connected], states);
        }
    }

    [Fact]
    public async Task OutgoingQueue_FullWhileBrokerIsDown_FailsClearlyAndQueuedPublishesCompleteAfterReconnect()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        string topic = UniqueTopic("queue");
        await using MqttClient client = await ConnectAsync(new MqttClientOptions
        {
            Host = broker.Host,
            Port = broker.Port,
            OutgoingQueueCountMax = 10,
            ReconnectDelayMin = TimeSpan.FromMilliseconds(50),
            ReconnectDelayMax = TimeSpan.FromMilliseconds(300),
        });
        await client.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await broker.KillAsync();
        await EventuallyAsync(() => client.State == MqttConnectionState.Reconnecting, "the client notices the broker is gone");

        var queued = new List<ValueTask>();
        for (int i = 0; i < 10; i++)
        {
            queued.Add(client.PublishAsync(topic, Utf8($"q{i}"), MqttQualityOfService.AtLeastOnce));
        }

        Assert.Equal(10, client.OutgoingQueueCount);
        var full = await Assert.ThrowsAsync<MqttException>(async () => await client.PublishAsync(topic, Utf8("one too many"), MqttQualityOfService.AtLeastOnce));
        Assert.Equal(MqttErrorCode.OutgoingQueueFull, full.Code);
        Assert.Contains("OutgoingQueueCountMax 10", full.Message);

        await broker.RestartAsync();
        foreach (ValueTask publish in queued)
        {
            await publish.AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(0, client.OutgoingQueueCount);
    }

    [Fact]
    public async Task Reconnect_AttemptsExhausted_FailsPendingPublishesAndEndsDisconnected()
    {
        MosquittoBroker broker = await MosquittoBroker.StartAsync();
        await using MqttClient client = await ConnectAsync(new MqttClientOptions
        {
            Host = broker.Host,
            Port = broker.Port,
            // Three attempts take at least half a second: time enough to queue a publish meanwhile.
            ReconnectDelayMin = TimeSpan.FromMilliseconds(200),
            ReconnectDelayMax = TimeSpan.FromMilliseconds(400),
            ReconnectAttemptsMax = 3,
        });
        await broker.DisposeAsync();
        await EventuallyAsync(() => client.State == MqttConnectionState.Reconnecting, "the client notices the broker is gone");
        ValueTask pending = client.PublishAsync("ce/test/never", Utf8("x"), MqttQualityOfService.AtLeastOnce);
        var error = await Assert.ThrowsAnyAsync<MqttException>(async () => await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(MqttErrorCode.ReconnectAttemptsExhausted, error.Code);
        Assert.Equal(MqttConnectionState.Disconnected, client.State);
    }

    [Fact]
    public async Task ProtocolFallback_BrokerRefusesMqtt5_ConnectsWith311AndWorks()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        await using var only311 = new TcpRelay(broker.Host, broker.Port, refuseMqtt5: true);
        string topic = UniqueTopic("fallback");
        await using MqttClient client = await ConnectAsync(Options(only311.Port, MqttProtocolVersion.V500));
        Assert.Equal(MqttProtocolVersion.V311, client.ConnectResult!.ProtocolVersion);
        Assert.Equal(1, only311.RefusedCount);

        await client.SubscribeAsync(topic, MqttQualityOfService.ExactlyOnce);
        await client.PublishAsync(topic, Utf8("via 3.1.1"), MqttQualityOfService.ExactlyOnce);
        Assert.Equal("via 3.1.1", (await ReceiveAsync(client)).GetPayloadAsString());

        // Later reconnects stay on 3.1.1 instead of asking for 5.0 again.
        Task reconnected = WhenReconnectedAsync(client);
        only311.AbortAll();
        await reconnected;
        Assert.Equal(1, only311.RefusedCount);
    }

    [Fact]
    public async Task ProtocolFallback_Disabled_ReportsUnsupportedProtocolVersion()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        await using var only311 = new TcpRelay(broker.Host, broker.Port, refuseMqtt5: true);
        await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = only311.Port, AllowProtocolFallback = false });
        var error = await Assert.ThrowsAsync<MqttException>(() => client.ConnectAsync());
        Assert.Equal(MqttErrorCode.ConnectionRefused, error.Code);
        Assert.Equal(MqttReasonCode.UnsupportedProtocolVersion, error.ReasonCode);
        Assert.Equal(MqttConnectionState.Disconnected, client.State);
    }

    [Fact]
    public async Task DisconnectAsync_WithUnacknowledgedPublish_FailsItWithClientClosed()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        await using MqttClient client = await ConnectAsync(broker);
        broker.Pause(); // no PUBACK will come
        try
        {
            ValueTask pending = client.PublishAsync("ce/test/unacked", Utf8("x"), MqttQualityOfService.AtLeastOnce);
            await EventuallyAsync(() => client.InflightCount == 1, "the publish is in flight");
            await client.DisconnectAsync();
            var error = await Assert.ThrowsAsync<MqttException>(async () => await pending);
            Assert.Equal(MqttErrorCode.ClientClosed, error.Code);
            Assert.Equal(MqttConnectionState.Disconnected, client.State);
            var after = await Assert.ThrowsAsync<MqttException>(async () => await client.PublishAsync("ce/test/after", Utf8("x")));
            Assert.Equal(MqttErrorCode.NotConnected, after.Code);
        }
        finally
        {
            broker.Resume();
        }
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_FailsWithConnectFailed()
    {
        int port = MosquittoBroker.GetFreePort();
        await using var client = new MqttClient(Options(port));
        var error = await Assert.ThrowsAsync<MqttTransportException>(() => client.ConnectAsync());
        Assert.Equal(MqttErrorCode.ConnectFailed, error.Code);
        Assert.Contains(port.ToString(CultureInfo.InvariantCulture), error.Message);
    }

    [Fact]
    public async Task ConnectAsync_BrokerStopped_TimesOutWithConnectTimeout()
    {
        await using MosquittoBroker broker = await MosquittoBroker.StartAsync();
        broker.Pause();
        try
        {
            await using var client = new MqttClient(new MqttClientOptions { Host = broker.Host, Port = broker.Port, ConnectTimeout = TimeSpan.FromMilliseconds(500) });
            var stopwatch = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<MqttTransportException>(() => client.ConnectAsync());
            Assert.Equal(MqttErrorCode.ConnectTimeout, error.Code);
        }
        finally
        {
            broker.Resume();
        }
    }
}
