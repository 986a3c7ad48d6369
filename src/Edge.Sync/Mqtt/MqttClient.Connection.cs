namespace CortexEdge.Sync.Mqtt;

/// <summary>Connection life cycle: establish, activate (resend, resubscribe), loss and reconnect.</summary>
public sealed partial class MqttClient
{
    /// <summary>Opens the stream and exchanges CONNECT/CONNACK; falls back to 3.1.1 when allowed. Touches no session state.</summary>
    private async Task<(MqttLink Link, byte[] Leftover)> EstablishAsync(CancellationToken cancellationToken)
    {
        MqttProtocolVersion version;
        string clientId;
        lock (_gate)
        {
            version = _version;
            clientId = _clientId;
        }

        while (true)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ConnectTimeout);
            Stream? stream = null;
            try
            {
                stream = await MqttTransport.ConnectAsync(_options, timeout.Token).ConfigureAwait(false);
                using (var connect = new MqttBufferWriter(256))
                {
                    MqttPacketWriter.WriteConnect(connect, BuildConnect(version, clientId));
                    await stream.WriteAsync(connect.WrittenMemory, timeout.Token).ConfigureAwait(false);
                }

                (MqttFixedHeader header, byte[] buffer, int count) = await ReadFirstPacketAsync(stream, timeout.Token).ConfigureAwait(false);
                if (header.Type == 0)
                {
                    // Closed before CONNACK: some 3.1.1-only brokers drop a 5.0 CONNECT without answering.
                    if (version == MqttProtocolVersion.V500 && _options.AllowProtocolFallback)
                    {
                        version = MqttProtocolVersion.V311;
                        continue;
                    }

                    throw new MqttTransportException(MqttErrorCode.ConnectionLost, $"{Endpoint} closed the connection before CONNACK.");
                }

                if (header.Type != MqttPacketType.ConnAck)
                {
                    throw new MqttProtocolException(MqttErrorCode.ProtocolViolation, $"{Endpoint} sent {MqttPacketReader.Name(header.Type)} before CONNACK.");
                }

                MqttConnAckPacket connAck = MqttPacketReader.ReadConnAck(buffer.AsSpan(header.HeaderLength, header.RemainingLength), version);
                if (connAck.ReasonCode == MqttReasonCode.UnsupportedProtocolVersion && version == MqttProtocolVersion.V500 && _options.AllowProtocolFallback)
                {
                    version = MqttProtocolVersion.V311;
                    continue;
                }

                if (connAck.ReasonCode != MqttReasonCode.Success)
                {
                    string detail = connAck.ReasonString is null ? string.Empty : $" ({connAck.ReasonString})";
                    throw new MqttException(
                        MqttErrorCode.ConnectionRefused,
                        $"{Endpoint} refused the connection: {connAck.ReasonCode}{detail}.",
                        connAck.ReasonCode);
                }

                TimeSpan keepAlive = connAck.ServerKeepAliveSeconds is ushort serverKeepAlive ? TimeSpan.FromSeconds(serverKeepAlive) : _options.KeepAlive;
                int outboundMax = connAck.MaximumPacketSize is uint maximum ? (int)Math.Min(maximum, MqttClientOptions.ProtocolPacketSizeMax) : MqttClientOptions.ProtocolPacketSizeMax;
                int inflightMax = Math.Min(_options.InflightCountMax, connAck.ReceiveMaximum);
                long generation = Interlocked.Increment(ref _generation);
                var link = new MqttLink(stream, version, connAck, outboundMax, inflightMax, keepAlive, generation);
                byte[] leftover = buffer.AsSpan(header.TotalLength, count - header.TotalLength).ToArray();
                stream = null;
                return (link, leftover);
            }
            catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                throw new MqttTransportException(MqttErrorCode.ConnectTimeout, $"{Endpoint} did not complete the connection within {_options.ConnectTimeout.TotalSeconds:0.###} s.", exception);
            }
            catch (IOException exception)
            {
                throw new MqttTransportException(MqttErrorCode.ConnectionLost, $"Connection to {Endpoint} failed during CONNECT: {exception.Message}", exception);
            }
            finally
            {
                if (stream is not null)
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    private string Endpoint => $"{_options.Host}:{_options.Port}";

    private MqttConnectPacket BuildConnect(MqttProtocolVersion version, string clientId)
    {
        bool v5 = version == MqttProtocolVersion.V500;
        return new MqttConnectPacket
        {
            ProtocolVersion = version,
            ClientId = clientId,
            CleanStart = _options.CleanSession,
            KeepAliveSeconds = (ushort)_options.KeepAlive.TotalSeconds,
            Username = _options.Username,
            Password = _passwordBytes is null ? (ReadOnlyMemory<byte>?)null : _passwordBytes,
            Will = _options.Will,
            SessionExpiryIntervalSeconds = v5 ? _options.SessionExpiryIntervalSeconds ?? (_options.CleanSession ? 0u : uint.MaxValue) : 0,
            // Sent even at its default (65,535, the value an absent property means): mosquitto applies
            // its max_inflight_messages (20) to a client that leaves it out.
            ReceiveMaximum = v5 ? _options.ReceiveMaximum : (ushort)0,
            MaximumPacketSize = v5 && _options.MaximumPacketSize < MqttClientOptions.ProtocolPacketSizeMax ? (uint)_options.MaximumPacketSize : 0,
            UserProperties = v5 ? _options.ConnectUserProperties : null,
        };
    }

    /// <summary>Reads until one whole packet is buffered. Header type 0 means the peer closed first.</summary>
    private async Task<(MqttFixedHeader Header, byte[] Buffer, int Count)> ReadFirstPacketAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[1024];
        int count = 0;
        while (true)
        {
            if (MqttPacketReader.TryReadFixedHeader(buffer.AsSpan(0, count), _options.MaximumPacketSize, out MqttFixedHeader header))
            {
                if (count >= header.TotalLength)
                {
                    return (header, buffer, count);
                }

                if (header.TotalLength > buffer.Length)
                {
                    Array.Resize(ref buffer, header.TotalLength);
                }
            }

            int read = await stream.ReadAsync(buffer.AsMemory(count), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return (default, buffer, count);
            }

            count += read;
        }
    }

    /// <summary>Installs a new link: resends the session's publishes, starts the loops, renews subscriptions, then reports Connected.</summary>
    private async Task ActivateLinkAsync(MqttLink link, byte[] leftover)
    {
        List<MqttSubscription>? resubscribe = null;
        lock (_gate)
        {
            if (!_wantConnected || _state == MqttConnectionState.Disposed)
            {
                link.Dispose();
                throw new MqttException(MqttErrorCode.ClientClosed, "The client was disconnected while connecting.");
            }

            _link = link;
            _version = link.Version;
            if (link.ConnAck.AssignedClientIdentifier is string assigned)
            {
                _clientId = assigned;
            }

            _connectResult = new MqttConnectResult(link.Version, link.ConnAck, _clientId, link.KeepAlive);
            bool sessionPresent = link.ConnAck.SessionPresent;
            if (!sessionPresent)
            {
                // The broker has no record of QoS 1/2 messages it was sending us: forget ours too.
                _incomingQos2.Clear();
                _heldByApplication.Clear();
                _acknowledgedOffline.Clear();
            }

            ResendSession(link, sessionPresent);
            PumpQueue(link);
            link.ReaderTask = Task.Run(() => ReadLoopAsync(link, leftover));
            link.WriterTask = Task.Run(() => WriteLoopAsync(link));
            link.KeepAliveTask = Task.Run(() => KeepAliveLoopAsync(link));
            if (!sessionPresent && _subscriptions.Count > 0)
            {
                resubscribe = [.. _subscriptions.Values];
            }
        }

        if (resubscribe is not null)
        {
            try
            {
                for (int i = 0; i < resubscribe.Count; i += SubscriptionsPerPacketMax)
                {
                    List<MqttSubscription> batch = resubscribe.GetRange(i, Math.Min(SubscriptionsPerPacketMax, resubscribe.Count - i));
                    await SubscribeCoreAsync(link, batch, CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (MqttException)
            {
                lock (_gate)
                {
                    if (_link == link)
                    {
                        _link = null;
                    }

                    link.Close();
                }

                throw;
            }
        }

        lock (_gate)
        {
            if (_link != link)
            {
                throw new MqttTransportException(MqttErrorCode.ConnectionLost, $"The connection to {Endpoint} was lost while it was being set up.");
            }

            SetState(MqttConnectionState.Connected, null);
        }
    }

    /// <summary>Re-sends unacknowledged QoS 1/2 publishes in their original order; call under the lock.</summary>
    private void ResendSession(MqttLink link, bool sessionPresent)
    {
        if (_inflight.Count == 0)
        {
            return;
        }

        var pending = new List<MqttPublishOperation>(_inflight.Values);
        pending.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        foreach (MqttPublishOperation operation in pending)
        {
            if (operation.Released && sessionPresent)
            {
                WriteAck(link, MqttPacketType.PubRel, operation.PacketId, MqttReasonCode.Success);
            }
            else
            {
                // Without the session the broker may have dropped a message it had only PUBREC'd
                // (mosquitto routes QoS 2 at PUBREL): send it again as a new publish. Duplicates are
                // possible then, loss is not. DUP tells a broker that kept the session that it may
                // have seen this packet.
                operation.Released = false;
                EncodePublish(link, operation, dup: sessionPresent);
            }
        }
    }

    /// <summary>Called by any loop when its link fails; the first call for the current link wins.</summary>
    private void OnLinkLost(MqttLink link, Exception reason)
    {
        lock (_gate)
        {
            if (_link != link)
            {
                link.Close();
                return;
            }

            _link = null;
            if (_state != MqttConnectionState.Connected)
            {
                // Lost while ConnectAsync or the reconnect loop is still activating it: that code
                // sees the link gone and handles the failure itself.
                link.Close();
                FailControl(new MqttTransportException(MqttErrorCode.ConnectionLost, $"The connection to {Endpoint} was lost while it was being set up.", reason));
                return;
            }

            if (reason is MqttProtocolException protocolError && link.Version == MqttProtocolVersion.V500 && !link.IsClosed)
            {
                // Tell the broker why before closing (best effort).
                using var buffer = new MqttBufferWriter(16);
                MqttPacketWriter.WriteDisconnect(buffer, new MqttDisconnectPacket { ReasonCode = protocolError.ReasonCode ?? MqttReasonCode.ProtocolError }, link.Version);
                link.Pending.WriteBytes(buffer.WrittenSpan);
                link.DrainRequested = true;
                link.SignalWriter();
                _ = link.Drained.Task.WaitAsync(TimeSpan.FromSeconds(1)).ContinueWith(_ => link.Close(), TaskScheduler.Default);
            }
            else
            {
                link.Close();
            }

            FailControl(new MqttTransportException(MqttErrorCode.ConnectionLost, $"The connection to {Endpoint} was lost before the broker answered.", reason));
            if (_wantConnected && _options.AutoReconnect && _state != MqttConnectionState.Disposed)
            {
                SetState(MqttConnectionState.Reconnecting, reason);
                CancellationToken stop = _reconnectStop.Token;
                _reconnectTask = Task.Run(() => ReconnectLoopAsync(reason, stop));
            }
            else
            {
                _wantConnected = false;
                FailSession(new MqttTransportException(MqttErrorCode.ConnectionLost, $"The connection to {Endpoint} was lost: {reason.Message}", reason));
                if (_state != MqttConnectionState.Disposed)
                {
                    SetState(MqttConnectionState.Disconnected, reason);
                }
            }
        }
    }

    private async Task ReconnectLoopAsync(Exception lastError, CancellationToken stop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, _lifetime.Token);
        CancellationToken lifetime = linked.Token;
        for (int attempt = 0; ; attempt++)
        {
            if (attempt >= _options.ReconnectAttemptsMax)
            {
                GiveUp(new MqttTransportException(
                    MqttErrorCode.ReconnectAttemptsExhausted,
                    $"Gave up reconnecting to {Endpoint} after {attempt} attempt(s); last error: {lastError.Message}",
                    lastError));
                return;
            }

            TimeSpan delay;
            lock (_gate)
            {
                delay = MqttReconnectBackoff.GetDelay(attempt, _options.ReconnectDelayMin, _options.ReconnectDelayMax, _jitter);
            }

            try
            {
                await Task.Delay(delay, lifetime).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lock (_gate)
            {
                if (!_wantConnected || _state == MqttConnectionState.Disposed)
                {
                    return;
                }
            }

            try
            {
                (MqttLink link, byte[] leftover) = await EstablishAsync(lifetime).ConfigureAwait(false);
                await ActivateLinkAsync(link, leftover).ConfigureAwait(false);
                return;
            }
            catch (MqttException exception) when (IsPermanentRefusal(exception))
            {
                GiveUp(exception);
                return;
            }
            catch (MqttException exception) when (exception.Code == MqttErrorCode.ClientClosed)
            {
                return;
            }
            catch (MqttException exception)
            {
                lastError = exception;
            }
            catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static bool IsPermanentRefusal(MqttException exception) =>
        exception.Code == MqttErrorCode.ConnectionRefused &&
        exception.ReasonCode is MqttReasonCode.BadUserNameOrPassword or MqttReasonCode.NotAuthorized or MqttReasonCode.Banned
            or MqttReasonCode.ClientIdentifierNotValid or MqttReasonCode.BadAuthenticationMethod or MqttReasonCode.UnsupportedProtocolVersion;

    private void GiveUp(MqttException reason)
    {
        lock (_gate)
        {
            if (!_wantConnected || _state == MqttConnectionState.Disposed)
            {
                return;
            }

            _wantConnected = false;
            FailSession(reason);
            SetState(MqttConnectionState.Disconnected, reason);
        }
    }
}
