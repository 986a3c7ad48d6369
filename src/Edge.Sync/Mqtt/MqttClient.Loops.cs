using System.Buffers;
using System.Diagnostics;

namespace CortexEdge.Sync.Mqtt;

/// <summary>The per-link loops: reader (framing, dispatch, delivery), writer (batched socket writes) and keep-alive.</summary>
public sealed partial class MqttClient
{
    private const int ReadBufferBytesInitial = 64 * 1024;

    private async Task ReadLoopAsync(MqttLink link, byte[] leftover)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(ReadBufferBytesInitial, leftover.Length));
        leftover.CopyTo(buffer, 0);
        int count = leftover.Length;
        CancellationToken token = link.Lifetime.Token;
        try
        {
            while (true)
            {
                int offset = 0;
                int needed = 0;
                while (true)
                {
                    if (!MqttPacketReader.TryReadFixedHeader(buffer.AsSpan(offset, count - offset), _options.MaximumPacketSize, out MqttFixedHeader header))
                    {
                        break;
                    }

                    if (count - offset < header.TotalLength)
                    {
                        needed = header.TotalLength;
                        break;
                    }

                    MqttMessage? message = HandlePacket(link, header, buffer.AsSpan(offset + header.HeaderLength, header.RemainingLength), out MqttPacketType ackType, out ushort ackId, out MqttReasonCode ackReason);
                    offset += header.TotalLength;
                    if (message is not null)
                    {
                        await DeliverAsync(link, message, token).ConfigureAwait(false);
                    }

                    if (ackType != 0)
                    {
                        lock (_gate)
                        {
                            if (_link != link)
                            {
                                return;
                            }

                            WriteAck(link, ackType, ackId, ackReason);
                        }
                    }
                }

                if (offset > 0)
                {
                    Buffer.BlockCopy(buffer, offset, buffer, 0, count - offset);
                    count -= offset;
                }

                if (needed > buffer.Length || count == buffer.Length)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, buffer.Length * 2));
                    Buffer.BlockCopy(buffer, 0, larger, 0, count);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await link.Stream.ReadAsync(buffer.AsMemory(count), token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new MqttTransportException(MqttErrorCode.ConnectionLost, $"{Endpoint} closed the connection.");
                }

                count += read;
                Volatile.Write(ref link.LastReceivedTimestamp, Stopwatch.GetTimestamp());
            }
        }
        catch (Exception exception) when (IsLinkFailure(exception))
        {
            OnLinkLost(link, Translate(exception, "reading from"));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            link.ReadEnded.TrySetResult();
        }
    }

    private async ValueTask DeliverAsync(MqttLink link, MqttMessage message, CancellationToken token)
    {
        if (_messages.Writer.TryWrite(message))
        {
            return;
        }

        // The application is behind: stop reading (TCP pushes back on the broker) and keep the
        // keep-alive monitor from blaming the link for the silence.
        link.DeliveryBlocked = true;
        try
        {
            await _messages.Writer.WriteAsync(message, token).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref link.LastReceivedTimestamp, Stopwatch.GetTimestamp());
            link.DeliveryBlocked = false;
        }
    }

    /// <summary>Handles one received packet. Returns a message to deliver, and the acknowledgement to send after delivery.</summary>
    private MqttMessage? HandlePacket(MqttLink link, MqttFixedHeader header, ReadOnlySpan<byte> body, out MqttPacketType ackType, out ushort ackId, out MqttReasonCode ackReason)
    {
        ackType = 0;
        ackId = 0;
        ackReason = MqttReasonCode.Success;
        MqttProtocolVersion version = link.Version;
        switch (header.Type)
        {
            case MqttPacketType.Publish:
                {
                    MqttPublishPacket publish = MqttPacketReader.ReadPublish(body, header.Flags, version, out ushort topicAlias);
                    if (topicAlias != 0)
                    {
                        // CONNECT advertised Topic Alias Maximum 0, so any alias breaks the protocol.
                        throw new MqttProtocolException(MqttErrorCode.ProtocolViolation, $"The broker sent topic alias {topicAlias}; this client allows none.", MqttReasonCode.TopicAliasInvalid);
                    }

                    MqttPublishProperties? properties = publish.PropertyBlock.IsEmpty ? null : MqttPublishProperties.Read(publish.PropertyBlock, (int)MqttPacketType.Publish, out _);
                    bool deliver = true;
                    bool owedByApplication = false;
                    if (publish.QualityOfService == MqttQualityOfService.AtLeastOnce)
                    {
                        ackType = MqttPacketType.PubAck;
                        ackId = publish.PacketId;
                        // With manual acknowledgement the application sends the PUBACK (MqttMessage.Acknowledge),
                        // on MQTT 5.0 only: a 3.1.1 broker's in-flight limit (mosquitto: 20) would stall it.
                        if (_options.ManualAcknowledgement && version == MqttProtocolVersion.V500)
                        {
                            lock (_gate)
                            {
                                if (_acknowledgedOffline.Remove(publish.PacketId))
                                {
                                    return null; // the application acknowledged it after its link closed: acknowledge now
                                }

                                // The broker only reuses an id once acknowledged: a held id is a redelivery
                                // of a message the application still has, now owed on this link.
                                bool redelivered = _heldByApplication.ContainsKey(publish.PacketId);
                                _heldByApplication[publish.PacketId] = link;
                                if (redelivered)
                                {
                                    ackType = 0;
                                    return null;
                                }
                            }

                            owedByApplication = true;
                            ackType = 0;
                        }
                    }
                    else if (publish.QualityOfService == MqttQualityOfService.ExactlyOnce)
                    {
                        // Method B of the spec: remember the identifier until PUBREL, deliver only the first copy.
                        lock (_gate)
                        {
                            deliver = _incomingQos2.Add(publish.PacketId);
                        }

                        ackType = MqttPacketType.PubRec;
                        ackId = publish.PacketId;
                    }

                    if (!deliver)
                    {
                        return null;
                    }

                    var message = new MqttMessage(publish.Topic, publish.Payload.ToArray(), publish.QualityOfService, publish.Retain, publish.Dup, properties);
                    if (owedByApplication)
                    {
                        message.OweAcknowledgement(this, publish.PacketId);
                    }

                    return message;
                }

            case MqttPacketType.PubAck:
            case MqttPacketType.PubComp:
                {
                    MqttAckPacket ack = MqttPacketReader.ReadAck(header.Type, body, version);
                    lock (_gate)
                    {
                        bool expected = _inflight.TryGetValue(ack.PacketId, out MqttPublishOperation? operation) &&
                            (header.Type == MqttPacketType.PubAck
                                ? operation.QualityOfService == MqttQualityOfService.AtLeastOnce
                                : operation.QualityOfService == MqttQualityOfService.ExactlyOnce && operation.Released);
                        if (expected)
                        {
                            _inflight.Remove(ack.PacketId);
                            CompleteAcknowledged(operation!, ack);
                            if (_link == link)
                            {
                                PumpQueue(link);
                            }
                        }
                    }

                    return null;
                }

            case MqttPacketType.PubRec:
                {
                    MqttAckPacket ack = MqttPacketReader.ReadAck(header.Type, body, version);
                    lock (_gate)
                    {
                        if (_inflight.TryGetValue(ack.PacketId, out MqttPublishOperation? operation) && operation.QualityOfService == MqttQualityOfService.ExactlyOnce)
                        {
                            if ((byte)ack.ReasonCode >= 0x80)
                            {
                                _inflight.Remove(ack.PacketId);
                                CompleteAcknowledged(operation, ack);
                                if (_link == link)
                                {
                                    PumpQueue(link);
                                }

                                return null;
                            }

                            operation.Released = true;
                            ackType = MqttPacketType.PubRel;
                            ackId = ack.PacketId;
                        }
                        else
                        {
                            ackType = MqttPacketType.PubRel;
                            ackId = ack.PacketId;
                            ackReason = MqttReasonCode.PacketIdentifierNotFound;
                        }
                    }

                    return null;
                }

            case MqttPacketType.PubRel:
                {
                    MqttAckPacket ack = MqttPacketReader.ReadAck(header.Type, body, version);
                    bool known;
                    lock (_gate)
                    {
                        known = _incomingQos2.Remove(ack.PacketId);
                    }

                    ackType = MqttPacketType.PubComp;
                    ackId = ack.PacketId;
                    ackReason = known ? MqttReasonCode.Success : MqttReasonCode.PacketIdentifierNotFound;
                    return null;
                }

            case MqttPacketType.SubAck:
            case MqttPacketType.UnsubAck:
                {
                    MqttSubAckPacket ack = MqttPacketReader.ReadSubAck(header.Type, body, version);
                    lock (_gate)
                    {
                        if (_control.Remove(ack.PacketId, out TaskCompletionSource<MqttSubAckPacket>? completion))
                        {
                            completion.TrySetResult(ack);
                        }
                    }

                    return null;
                }

            case MqttPacketType.PingResp:
                MqttPacketReader.ReadEmpty(header.Type, body);
                Volatile.Write(ref link.PingSentTimestamp, 0);
                return null;

            case MqttPacketType.Disconnect:
                {
                    MqttDisconnectPacket disconnect = MqttPacketReader.ReadDisconnect(header.Type, body, version);
                    if (version == MqttProtocolVersion.V311)
                    {
                        throw new MqttProtocolException(MqttErrorCode.ProtocolViolation, "A 3.1.1 broker must not send DISCONNECT.");
                    }

                    string detail = disconnect.ReasonString is null ? string.Empty : $" ({disconnect.ReasonString})";
                    throw new MqttException(MqttErrorCode.DisconnectedByBroker, $"{Endpoint} disconnected the client: {disconnect.ReasonCode}{detail}.", disconnect.ReasonCode);
                }

            default:
                throw new MqttProtocolException(MqttErrorCode.ProtocolViolation, $"A broker must not send {MqttPacketReader.Name(header.Type)} to a client at this point.");
        }
    }

    private void CompleteAcknowledged(MqttPublishOperation operation, MqttAckPacket ack)
    {
        if ((byte)ack.ReasonCode >= 0x80)
        {
            string detail = ack.ReasonString is null ? string.Empty : $" ({ack.ReasonString})";
            operation.Fail(new MqttException(MqttErrorCode.PublishRefused, $"The broker refused the publish to '{operation.Topic}': {ack.ReasonCode}{detail}.", ack.ReasonCode));
        }
        else
        {
            operation.Complete();
        }
    }

    private async Task WriteLoopAsync(MqttLink link)
    {
        CancellationToken token = link.Lifetime.Token;
        try
        {
            while (true)
            {
                await link.WriteSignal.WaitAsync().ConfigureAwait(false);
                MqttBufferWriter batch;
                lock (_gate)
                {
                    link.WriteSignaled = false;
                    batch = link.SwapBuffers();
                }

                if (batch.Length > 0)
                {
                    await link.Stream.WriteAsync(batch.WrittenMemory, token).ConfigureAwait(false);
                    Volatile.Write(ref link.LastSentTimestamp, Stopwatch.GetTimestamp());
                }

                lock (_gate)
                {
                    batch.Clear();
                    if (_link == link)
                    {
                        PumpQueue(link);
                    }

                    if (link.DrainRequested && link.Pending.Length == 0)
                    {
                        link.Drained.TrySetResult();
                    }
                }
            }
        }
        catch (Exception exception) when (IsLinkFailure(exception))
        {
            OnLinkLost(link, Translate(exception, "writing to"));
        }
        finally
        {
            lock (_gate)
            {
                link.Drained.TrySetResult();
                if (_link != link)
                {
                    link.ReleaseBuffers();
                }
            }
        }
    }

    private async Task KeepAliveLoopAsync(MqttLink link)
    {
        if (link.KeepAlive <= TimeSpan.Zero)
        {
            return;
        }

        // Ping after half a keep-alive of silence in either direction; declare the link dead when
        // a ping gets no traffic back within another half. A dead link is thus noticed within about
        // one keep-alive (plus one tick), well inside the 1.5x the broker itself allows.
        // No fixed tick: the loop sleeps until the next moment something can be due (a ping after
        // half a keep-alive of silence, or the dead-link deadline of a ping), so an idle link wakes
        // the CPU about twice per keep-alive instead of ten times.
        long half = (long)(link.KeepAlive.TotalSeconds * Stopwatch.Frequency / 2);
        TimeSpan tickMin = TimeSpan.FromMilliseconds(50);
        CancellationToken token = link.Lifetime.Token;
        try
        {
            while (!link.IsClosed)
            {
                long pingSentBefore = Volatile.Read(ref link.PingSentTimestamp);
                long due = pingSentBefore != 0
                    ? Math.Max(pingSentBefore, Volatile.Read(ref link.LastReceivedTimestamp)) + half
                    : Math.Min(Volatile.Read(ref link.LastSentTimestamp), Volatile.Read(ref link.LastReceivedTimestamp)) + half;
                TimeSpan wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                await Task.Delay(wait > tickMin ? wait : tickMin, token).ConfigureAwait(false);
                long now = Stopwatch.GetTimestamp();
                if (link.DeliveryBlocked)
                {
                    Volatile.Write(ref link.LastReceivedTimestamp, now);
                    continue;
                }

                long lastReceived = Volatile.Read(ref link.LastReceivedTimestamp);
                long lastSent = Volatile.Read(ref link.LastSentTimestamp);
                long pingSent = Volatile.Read(ref link.PingSentTimestamp);
                if (pingSent != 0)
                {
                    if (now - Math.Max(pingSent, lastReceived) >= half)
                    {
                        OnLinkLost(link, new MqttTransportException(
                            MqttErrorCode.KeepAliveTimeout,
                            $"{Endpoint} sent nothing for {Stopwatch.GetElapsedTime(lastReceived, now).TotalSeconds:0.0} s and did not answer PINGREQ (keep-alive {link.KeepAlive.TotalSeconds:0.###} s); the link is considered dead."));
                        return;
                    }
                }
                else if (now - lastSent >= half || now - lastReceived >= half)
                {
                    lock (_gate)
                    {
                        if (_link != link)
                        {
                            return;
                        }

                        Span<byte> destination = link.Pending.GetSpan(2);
                        link.Pending.Advance(MqttPacketWriter.WritePing(destination, MqttPacketType.PingReq));
                        link.SignalWriter();
                        Volatile.Write(ref link.PingSentTimestamp, now);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The link closed; its owner already handled that.
        }
    }

    // Any failure inside a link's loop ends that link with the failure as its reason (reported
    // through ConnectionStateChanged and to pending operations); nothing is swallowed.
    private static bool IsLinkFailure(Exception exception) => exception is not OutOfMemoryException;

    private MqttException Translate(Exception exception, string action) => exception switch
    {
        MqttException mqtt => mqtt,
        _ => new MqttTransportException(MqttErrorCode.ConnectionLost, $"Connection lost while {action} {Endpoint}: {exception.Message}", exception),
    };
}
