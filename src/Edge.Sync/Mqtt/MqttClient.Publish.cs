namespace CortexEdge.Sync.Mqtt;

/// <summary>Publishing: acceptance, the outgoing queue, the in-flight window and encoding.</summary>
public sealed partial class MqttClient
{
    /// <summary>
    /// Publishes a message. The returned task completes when the QoS level is satisfied: QoS 0 once
    /// the packet is in the send buffer, QoS 1 at PUBACK, QoS 2 at PUBCOMP. While the client is
    /// reconnecting, or the in-flight window or send buffer is full, the message waits in the
    /// bounded outgoing queue; QoS 1/2 messages stay in the session across reconnects and are
    /// resent (with DUP when the broker kept the session).
    /// </summary>
    /// <param name="topic">A topic name (no wildcards).</param>
    /// <param name="payload">The payload; it is read until the task completes and must not change before then.</param>
    /// <param name="qualityOfService">Delivery guarantee.</param>
    /// <param name="retain">Ask the broker to retain the message on its topic.</param>
    /// <param name="cancellationToken">Observed only before the message is accepted: once accepted it belongs to the session.</param>
    /// <exception cref="MqttException">Codes <see cref="MqttErrorCode.OutgoingQueueFull"/>, <see cref="MqttErrorCode.NotConnected"/>,
    /// <see cref="MqttErrorCode.ClientClosed"/>, <see cref="MqttErrorCode.PublishRefused"/> (MQTT 5 reason code in
    /// <see cref="MqttException.ReasonCode"/>), <see cref="MqttErrorCode.NotSupportedByBroker"/>.</exception>
    /// <exception cref="MqttProtocolException">Invalid topic, or the packet exceeds the broker's maximum packet size.</exception>
    public ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qualityOfService = MqttQualityOfService.AtMostOnce, bool retain = false, CancellationToken cancellationToken = default) =>
        PublishAsync(topic, payload, qualityOfService, retain, null, cancellationToken);

    /// <summary>Publishes a message with MQTT 5.0 properties (ignored under 3.1.1). Otherwise as <see cref="PublishAsync(string, ReadOnlyMemory{byte}, MqttQualityOfService, bool, CancellationToken)"/>.</summary>
    /// <param name="topic">A topic name (no wildcards).</param>
    /// <param name="payload">The payload; it is read until the task completes and must not change before then.</param>
    /// <param name="qualityOfService">Delivery guarantee.</param>
    /// <param name="retain">Ask the broker to retain the message on its topic.</param>
    /// <param name="properties">MQTT 5.0 properties (user properties, content type, ...), or null.</param>
    /// <param name="cancellationToken">Observed only before the message is accepted.</param>
    public ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qualityOfService, bool retain, MqttPublishProperties? properties, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            if (MqttTopic.GetTopicNameError(topic) is string error)
            {
                throw new MqttProtocolException(MqttErrorCode.InvalidTopicName, $"Topic name '{topic}' is invalid: {error}.", MqttReasonCode.TopicNameInvalid);
            }

            if ((byte)qualityOfService > 2)
            {
                MqttThrow.Options($"QoS {(int)qualityOfService} is not 0, 1 or 2.");
            }

            int topicByteCount = MqttUtf8.GetByteCount(topic, "topic name");
            lock (_gate)
            {
                if (_state == MqttConnectionState.Disposed)
                {
                    throw new MqttException(MqttErrorCode.ClientClosed, "The MQTT client is disposed.");
                }

                if (!_wantConnected)
                {
                    throw new MqttException(MqttErrorCode.NotConnected, $"PublishAsync to '{topic}' needs a connection: call ConnectAsync first (state {_state}).");
                }

                MqttLink? link = _link;
                if (link is not null)
                {
                    CheckBrokerLimits(link, topic, topicByteCount, payload.Length, qualityOfService, retain);
                    bool canSend = _queue.Count == 0 && HasRoom(link, MqttPacketWriter.GetPublishSize(topicByteCount, payload.Length, qualityOfService, link.Version, 0));
                    if (canSend && qualityOfService == MqttQualityOfService.AtMostOnce && properties is null)
                    {
                        // Fast path: encode straight into the send buffer, nothing to track.
                        EncodePublish(link, topic, topicByteCount, payload.Span, qualityOfService, retain, dup: false, packetId: 0, properties: null);
                        return ValueTask.CompletedTask;
                    }

                    if (canSend && (qualityOfService == MqttQualityOfService.AtMostOnce || _inflight.Count < link.InflightCountMax))
                    {
                        MqttPublishOperation direct = MqttPublishOperation.Rent(topic, topicByteCount, payload, qualityOfService, retain, properties, ++_sequence);
                        short token = direct.Token;
                        SendPublish(link, direct);
                        return new ValueTask(direct, token);
                    }
                }

                if (_queue.Count >= _options.OutgoingQueueCountMax)
                {
                    throw new MqttException(
                        MqttErrorCode.OutgoingQueueFull,
                        $"The outgoing queue is full ({_queue.Count} publishes waiting, OutgoingQueueCountMax {_options.OutgoingQueueCountMax}); " +
                        $"the broker at {Endpoint} is {(link is null ? "unreachable" : "slower than the publisher")}. Publish to '{topic}' was not accepted.");
                }

                MqttPublishOperation queued = MqttPublishOperation.Rent(topic, topicByteCount, payload, qualityOfService, retain, properties, ++_sequence);
                _queue.Enqueue(queued);
                return new ValueTask(queued, queued.Token);
            }
        }
        catch (MqttException exception)
        {
            return ValueTask.FromException(exception);
        }
    }

    private static void CheckBrokerLimits(MqttLink link, string topic, int topicByteCount, int payloadLength, MqttQualityOfService qos, bool retain)
    {
        if (qos > link.ConnAck.MaximumQoS)
        {
            throw new MqttException(MqttErrorCode.NotSupportedByBroker, $"The broker accepts QoS up to {(int)link.ConnAck.MaximumQoS}; publish to '{topic}' asked for QoS {(int)qos}.", MqttReasonCode.QoSNotSupported);
        }

        if (retain && !link.ConnAck.RetainAvailable)
        {
            throw new MqttException(MqttErrorCode.NotSupportedByBroker, $"The broker does not support retained messages; publish to '{topic}' asked for retain.", MqttReasonCode.RetainNotSupported);
        }

        // Without properties: exact. Properties are measured again at encode time.
        long size = MqttPacketWriter.GetPublishSize(topicByteCount, payloadLength, qos, link.Version, 0);
        if (size > link.OutboundPacketSizeMax)
        {
            MqttThrow.TooLarge(size, link.OutboundPacketSizeMax, $"the broker's maximum packet size; publish to '{topic}'");
        }
    }

    /// <summary>Sends a publish now: assigns its packet identifier and tracks it if QoS &gt; 0; call under the lock.</summary>
    private void SendPublish(MqttLink link, MqttPublishOperation operation)
    {
        if (operation.QualityOfService != MqttQualityOfService.AtMostOnce)
        {
            operation.PacketId = AllocatePacketId();
            _inflight[operation.PacketId] = operation;
        }

        if (!EncodePublish(link, operation, dup: false))
        {
            return;
        }

        if (operation.QualityOfService == MqttQualityOfService.AtMostOnce)
        {
            operation.Complete();
        }
    }

    /// <summary>Encodes an operation's PUBLISH; on a limit violation fails the operation and returns false. Call under the lock.</summary>
    private bool EncodePublish(MqttLink link, MqttPublishOperation operation, bool dup)
    {
        try
        {
            EncodePublish(link, operation.Topic, operation.TopicByteCount, operation.Payload.Span, operation.QualityOfService, operation.Retain, dup, operation.PacketId, operation.Properties);
            return true;
        }
        catch (MqttException exception)
        {
            if (operation.PacketId != 0)
            {
                _inflight.Remove(operation.PacketId);
            }

            operation.Fail(exception);
            return false;
        }
    }

    private static void EncodePublish(MqttLink link, string topic, int topicByteCount, ReadOnlySpan<byte> payload, MqttQualityOfService qos, bool retain, bool dup, ushort packetId, MqttPublishProperties? properties)
    {
        MqttBufferWriter? block = null;
        try
        {
            if (properties is not null && link.Version == MqttProtocolVersion.V500 && !properties.IsEmpty)
            {
                block = new MqttBufferWriter(128);
                properties.Write(block);
            }

            ReadOnlySpan<byte> propertyBlock = block is null ? default : block.WrittenSpan;
            long size = MqttPacketWriter.GetPublishSize(topicByteCount, payload.Length, qos, link.Version, propertyBlock.Length);
            if (size > link.OutboundPacketSizeMax)
            {
                MqttThrow.TooLarge(size, link.OutboundPacketSizeMax, $"the broker's maximum packet size; publish to '{topic}'");
            }

            Span<byte> destination = link.Pending.GetSpan((int)size);
            int written = MqttPacketWriter.WritePublish(destination, topic, topicByteCount, payload, qos, retain, dup, packetId, link.Version, propertyBlock);
            link.Pending.Advance(written);
            link.SignalWriter();
        }
        finally
        {
            block?.Dispose();
        }
    }

    /// <summary>Moves queued publishes into the send buffer while the window and buffer allow; call under the lock.</summary>
    private void PumpQueue(MqttLink link)
    {
        while (_queue.Count > 0)
        {
            MqttPublishOperation next = _queue.Peek();
            if (next.QualityOfService != MqttQualityOfService.AtMostOnce && _inflight.Count >= link.InflightCountMax)
            {
                return;
            }

            if (!HasRoom(link, MqttPacketWriter.GetPublishSize(next.TopicByteCount, next.Payload.Length, next.QualityOfService, link.Version, 0)))
            {
                return;
            }

            _queue.Dequeue();
            try
            {
                CheckBrokerLimits(link, next.Topic, next.TopicByteCount, next.Payload.Length, next.QualityOfService, next.Retain);
            }
            catch (MqttException exception)
            {
                next.Fail(exception);
                continue;
            }

            SendPublish(link, next);
        }
    }

    /// <summary>
    /// Whether a packet of <paramref name="size"/> bytes fits the send buffer bound. An empty buffer
    /// always takes one packet, however large, so a packet above the bound still goes out.
    /// </summary>
    private bool HasRoom(MqttLink link, long size) => link.Pending.Length == 0 || link.Pending.Length + size <= _options.SendBufferBytesMax;

    /// <summary>Encodes PUBACK/PUBREC/PUBREL/PUBCOMP into the link's send buffer; call under the lock.</summary>
    /// <summary>
    /// Sends a PUBACK the application owed (manual acknowledgement) on the link that delivered the
    /// message, or, once that link has closed, when the broker redelivers it after reconnecting.
    /// False when the client is disposed or the session that delivered the message is gone.
    /// </summary>
    internal bool SendDeferredAck(ushort packetId)
    {
        lock (_gate)
        {
            if (_state == MqttConnectionState.Disposed || !_heldByApplication.Remove(packetId, out MqttLink? deliveredOn))
            {
                return false;
            }

            if (_link == deliveredOn && !deliveredOn.IsClosed)
            {
                WriteAck(deliveredOn, MqttPacketType.PubAck, packetId, MqttReasonCode.Success);
            }
            else
            {
                _acknowledgedOffline.Add(packetId);
            }

            return true;
        }
    }

    private static void WriteAck(MqttLink link, MqttPacketType type, ushort packetId, MqttReasonCode reasonCode)
    {
        Span<byte> destination = link.Pending.GetSpan(MqttPacketWriter.AckSizeMax);
        link.Pending.Advance(MqttPacketWriter.WriteAck(destination, type, packetId, reasonCode, link.Version));
        link.SignalWriter();
    }
}
