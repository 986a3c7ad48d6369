namespace CortexEdge.Sync.Mqtt;

/// <summary>Subscribing and unsubscribing.</summary>
public sealed partial class MqttClient
{
    /// <summary>
    /// Subscribes to one topic filter and returns the QoS the broker granted. The subscription is
    /// remembered and renewed after a reconnect if the broker lost the session.
    /// </summary>
    /// <exception cref="MqttException">Code <see cref="MqttErrorCode.SubscribeRefused"/> with the broker's reason;
    /// <see cref="MqttErrorCode.NotConnected"/>; <see cref="MqttErrorCode.AcknowledgementTimeout"/>.</exception>
    /// <exception cref="MqttProtocolException">The filter is invalid.</exception>
    public async Task<MqttQualityOfService> SubscribeAsync(string topicFilter, MqttQualityOfService qualityOfService = MqttQualityOfService.AtLeastOnce, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<MqttSubscribeResult> results = await SubscribeAsync([new MqttSubscription(topicFilter, qualityOfService)], cancellationToken).ConfigureAwait(false);
        MqttSubscribeResult result = results[0];
        if (!result.Succeeded)
        {
            throw new MqttException(MqttErrorCode.SubscribeRefused, $"The broker refused the subscription to '{topicFilter}': {result.ReasonCode}.", result.ReasonCode);
        }

        return (MqttQualityOfService)result.ReasonCode;
    }

    /// <summary>
    /// Subscribes to several filters in one SUBSCRIBE and returns one result per filter, in order
    /// (granted QoS or the broker's refusal reason). Granted subscriptions are remembered for
    /// resubscription.
    /// </summary>
    /// <exception cref="MqttException">Codes <see cref="MqttErrorCode.NotConnected"/>, <see cref="MqttErrorCode.AcknowledgementTimeout"/>.</exception>
    /// <exception cref="MqttTransportException">The connection was lost before SUBACK.</exception>
    public async Task<IReadOnlyList<MqttSubscribeResult>> SubscribeAsync(IReadOnlyList<MqttSubscription> subscriptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscriptions);
        if (subscriptions.Count == 0)
        {
            throw new ArgumentException("At least one subscription is needed.", nameof(subscriptions));
        }

        MqttLink link;
        lock (_gate)
        {
            link = _link ?? throw new MqttException(MqttErrorCode.NotConnected, $"SubscribeAsync needs a connection (state {_state}).");
        }

        return await SubscribeCoreAsync(link, subscriptions, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes subscriptions; returns one result per filter (3.1.1 brokers report Success for each).</summary>
    /// <exception cref="MqttException">Codes <see cref="MqttErrorCode.NotConnected"/>, <see cref="MqttErrorCode.AcknowledgementTimeout"/>,
    /// <see cref="MqttErrorCode.UnsubscribeRefused"/>.</exception>
    public async Task<IReadOnlyList<MqttSubscribeResult>> UnsubscribeAsync(IReadOnlyList<string> topicFilters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topicFilters);
        if (topicFilters.Count == 0)
        {
            throw new ArgumentException("At least one topic filter is needed.", nameof(topicFilters));
        }

        foreach (string filter in topicFilters)
        {
            MqttTopic.ValidateTopicFilter(filter);
        }

        var completion = new TaskCompletionSource<MqttSubAckPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        ushort packetId;
        lock (_gate)
        {
            MqttLink link = _link ?? throw new MqttException(MqttErrorCode.NotConnected, $"UnsubscribeAsync needs a connection (state {_state}).");
            packetId = AllocatePacketId();
            using var buffer = new MqttBufferWriter();
            MqttPacketWriter.WriteUnsubscribe(buffer, new MqttUnsubscribePacket { PacketId = packetId, TopicFilters = [.. topicFilters] }, link.Version);
            CheckControlSize(link, buffer.Length, "UNSUBSCRIBE");
            _control[packetId] = completion;
            link.Pending.WriteBytes(buffer.WrittenSpan);
            link.SignalWriter();
            foreach (string filter in topicFilters)
            {
                _subscriptions.Remove(filter);
            }
        }

        MqttSubAckPacket ack = await WaitForAckAsync(completion, packetId, "UNSUBACK", cancellationToken).ConfigureAwait(false);
        var results = new MqttSubscribeResult[topicFilters.Count];
        for (int i = 0; i < results.Length; i++)
        {
            // 3.1.1 UNSUBACK carries no reason codes: success for every filter.
            results[i] = new MqttSubscribeResult(topicFilters[i], i < ack.ReasonCodes.Count ? ack.ReasonCodes[i] : MqttReasonCode.Success);
        }

        return results;
    }

    /// <summary>Removes one subscription.</summary>
    /// <exception cref="MqttException">As <see cref="UnsubscribeAsync(IReadOnlyList{string}, CancellationToken)"/>, plus
    /// <see cref="MqttErrorCode.UnsubscribeRefused"/> when the broker refused.</exception>
    public async Task UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<MqttSubscribeResult> results = await UnsubscribeAsync([topicFilter], cancellationToken).ConfigureAwait(false);
        if (!results[0].Succeeded)
        {
            throw new MqttException(MqttErrorCode.UnsubscribeRefused, $"The broker refused to remove the subscription '{topicFilter}': {results[0].ReasonCode}.", results[0].ReasonCode);
        }
    }

    private async Task<IReadOnlyList<MqttSubscribeResult>> SubscribeCoreAsync(MqttLink link, IReadOnlyList<MqttSubscription> subscriptions, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<MqttSubAckPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        ushort packetId;
        lock (_gate)
        {
            if (_link != link)
            {
                throw new MqttTransportException(MqttErrorCode.ConnectionLost, $"The connection to {Endpoint} was lost before SUBSCRIBE was sent.");
            }

            packetId = AllocatePacketId();
            using var buffer = new MqttBufferWriter();
            MqttPacketWriter.WriteSubscribe(buffer, new MqttSubscribePacket { PacketId = packetId, Subscriptions = [.. subscriptions] }, link.Version);
            CheckControlSize(link, buffer.Length, "SUBSCRIBE");
            _control[packetId] = completion;
            link.Pending.WriteBytes(buffer.WrittenSpan);
            link.SignalWriter();
        }

        MqttSubAckPacket ack = await WaitForAckAsync(completion, packetId, "SUBACK", cancellationToken).ConfigureAwait(false);
        if (ack.ReasonCodes.Count != subscriptions.Count)
        {
            throw new MqttProtocolException(MqttErrorCode.ProtocolViolation, $"SUBACK has {ack.ReasonCodes.Count} reason codes for {subscriptions.Count} topic filters.");
        }

        var results = new MqttSubscribeResult[subscriptions.Count];
        lock (_gate)
        {
            for (int i = 0; i < results.Length; i++)
            {
                results[i] = new MqttSubscribeResult(subscriptions[i].TopicFilter, ack.ReasonCodes[i]);
                if (results[i].Succeeded)
                {
                    _subscriptions[subscriptions[i].TopicFilter] = subscriptions[i];
                }
            }
        }

        return results;
    }

    private static void CheckControlSize(MqttLink link, int size, string packetName)
    {
        if (size > link.OutboundPacketSizeMax)
        {
            MqttThrow.TooLarge(size, link.OutboundPacketSizeMax, $"the broker's maximum packet size; {packetName}");
        }
    }

    private async Task<MqttSubAckPacket> WaitForAckAsync(TaskCompletionSource<MqttSubAckPacket> completion, ushort packetId, string packetName, CancellationToken cancellationToken)
    {
        try
        {
            return await completion.Task.WaitAsync(_options.AcknowledgementTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException exception)
        {
            lock (_gate)
            {
                _control.Remove(packetId);
            }

            throw new MqttException(MqttErrorCode.AcknowledgementTimeout, $"No {packetName} from {Endpoint} within {_options.AcknowledgementTimeout.TotalSeconds:0.###} s.", null, exception);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                _control.Remove(packetId);
            }

            throw;
        }
    }
}
