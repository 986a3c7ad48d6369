namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Settings of an <see cref="MqttClient"/>. Read once when the client is created; later changes
/// have no effect. Limits carry their unit in the name (counts, bytes, <see cref="TimeSpan"/>).
/// </summary>
public sealed class MqttClientOptions
{
    /// <summary>The MQTT protocol maximum packet size (remaining length 268,435,455 plus a 5-byte header).</summary>
    public const int ProtocolPacketSizeMax = 268_435_460;

    /// <summary>Broker host name or IP address.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Broker TCP port.</summary>
    public int Port { get; init; } = 1883;

    /// <summary>Client identifier; empty asks an MQTT 5.0 broker to assign one (3.1.1 needs a clean session then). Default: a random "ce-" identifier.</summary>
    public string ClientId { get; init; } = "ce-" + Guid.NewGuid().ToString("N")[..16];

    /// <summary>Protocol level to ask for first. Default MQTT 5.0.</summary>
    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V500;

    /// <summary>
    /// When <see cref="ProtocolVersion"/> is 5.0 and the broker refuses it (CONNACK "unacceptable
    /// protocol version" or a close before CONNACK), retry with 3.1.1 and keep using it. Default true.
    /// </summary>
    public bool AllowProtocolFallback { get; init; } = true;

    /// <summary>
    /// True starts a fresh session at each connect (Clean Session / Clean Start). False keeps the
    /// broker's session (subscriptions, queued QoS 1/2 messages) across disconnects; the client then
    /// resends its unacknowledged QoS 1/2 publishes with DUP after a reconnect. Default true.
    /// </summary>
    public bool CleanSession { get; init; } = true;

    /// <summary>
    /// MQTT 5.0 session expiry in seconds. Null: 0 with a clean session, never (uint.MaxValue, the
    /// 3.1.1 behaviour) otherwise.
    /// </summary>
    public uint? SessionExpiryIntervalSeconds { get; init; }

    /// <summary>Keep-alive interval; <see cref="TimeSpan.Zero"/> disables PINGREQ and dead-link detection. Default 30 s, at most 65,535 s.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for TCP connect, TLS handshake and CONNACK together. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time allowed for a SUBACK or UNSUBACK. Default 30 s.</summary>
    public TimeSpan AcknowledgementTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>User name; null for none.</summary>
    public string? Username { get; init; }

    /// <summary>Password (sent as UTF-8); null for none.</summary>
    public string? Password { get; init; }

    /// <summary>Last Will published by the broker if the connection ends without DISCONNECT.</summary>
    public MqttWillMessage? Will { get; init; }

    /// <summary>TLS settings; null for plain TCP.</summary>
    public MqttTlsOptions? Tls { get; init; }

    /// <summary>
    /// Largest packet this client accepts, in bytes. Advertised to MQTT 5.0 brokers (which then drop
    /// larger messages for this client); a larger packet closes the connection. Default: the protocol maximum.
    /// </summary>
    public int MaximumPacketSize { get; init; } = ProtocolPacketSizeMax;

    /// <summary>MQTT 5.0 Receive Maximum advertised to the broker: QoS 1/2 messages it may have in flight to us. Default 65,535.</summary>
    public ushort ReceiveMaximum { get; init; } = ushort.MaxValue;

    /// <summary>
    /// Most QoS 1/2 publishes this client has unacknowledged at once (also capped by an MQTT 5.0
    /// broker's Receive Maximum). Default 20: a 3.1.1 broker cannot announce its limit, and
    /// mosquitto's default (max_inflight_messages 20) disconnects a 3.1.1 client that exceeds it
    /// with QoS 2.
    /// </summary>
    public int InflightCountMax { get; init; } = 20;

    /// <summary>
    /// Most publishes waiting to be sent (offline, or behind the in-flight window or a full send
    /// buffer). Past it, PublishAsync fails with <see cref="MqttErrorCode.OutgoingQueueFull"/>. Default 10,000.
    /// </summary>
    public int OutgoingQueueCountMax { get; init; } = 10_000;

    /// <summary>Bytes encoded but not yet written to the socket beyond which publishes wait in the outgoing queue. Default 1 MiB.</summary>
    public int SendBufferBytesMax { get; init; } = 1 << 20;

    /// <summary>
    /// When true, a received QoS 1 message is acknowledged (PUBACK) only when the application calls
    /// <see cref="MqttMessage.Acknowledge"/>, typically once it has stored the message durably: with a
    /// persistent session the broker then redelivers whatever a crash left unacknowledged. Acknowledge
    /// in the order received (MQTT requires PUBACKs in order). The broker stops sending at
    /// <see cref="ReceiveMaximum"/> unacknowledged messages. MQTT 5.0 only: on a 3.1.1 connection
    /// (a broker that refused 5.0) messages are acknowledged on delivery, since the broker applies its
    /// own small in-flight limit (mosquitto's max_inflight_messages, 20) that would stall an
    /// application acknowledging in batches. QoS 2 messages are always acknowledged on delivery.
    /// Default false: acknowledged as soon as they are queued for <see cref="MqttClient.Messages"/>.
    /// </summary>
    public bool ManualAcknowledgement { get; init; }

    /// <summary>Received messages buffered for <see cref="MqttClient.Messages"/>; when full the client stops reading (backpressure). Default 1,024.</summary>
    public int ReceiveQueueCountMax { get; init; } = 1024;

    /// <summary>Reconnect automatically after a lost connection. Default true.</summary>
    public bool AutoReconnect { get; init; } = true;

    /// <summary>First reconnect delay (before jitter). Default 100 ms.</summary>
    public TimeSpan ReconnectDelayMin { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest reconnect delay; the delay doubles per failed attempt up to this. Default 30 s.</summary>
    public TimeSpan ReconnectDelayMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Failed reconnect attempts after which the client gives up (state Disconnected). Default unlimited (int.MaxValue).</summary>
    public int ReconnectAttemptsMax { get; init; } = int.MaxValue;

    /// <summary>MQTT 5.0 user properties sent in CONNECT.</summary>
    public IReadOnlyList<MqttUserProperty>? ConnectUserProperties { get; init; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            MqttThrow.Options("Host is empty.");
        }

        if (Port is <= 0 or > 65535)
        {
            MqttThrow.Options($"Port {Port} is not in 1..65535.");
        }

        if (KeepAlive < TimeSpan.Zero || KeepAlive.TotalSeconds > ushort.MaxValue)
        {
            MqttThrow.Options($"KeepAlive {KeepAlive} is not in 0..65535 s.");
        }

        if (MaximumPacketSize is < 128 or > ProtocolPacketSizeMax)
        {
            MqttThrow.Options($"MaximumPacketSize {MaximumPacketSize} is not in 128..{ProtocolPacketSizeMax} bytes.");
        }

        if (InflightCountMax is < 1 or > ushort.MaxValue)
        {
            MqttThrow.Options($"InflightCountMax {InflightCountMax} is not in 1..65535.");
        }

        if (OutgoingQueueCountMax < 1 || ReceiveQueueCountMax < 1 || SendBufferBytesMax < 1024 || ReceiveMaximum == 0)
        {
            MqttThrow.Options("OutgoingQueueCountMax, ReceiveQueueCountMax and ReceiveMaximum must be positive; SendBufferBytesMax at least 1024.");
        }

        if (ReconnectDelayMin <= TimeSpan.Zero || ReconnectDelayMax < ReconnectDelayMin || ReconnectAttemptsMax < 1)
        {
            MqttThrow.Options("ReconnectDelayMin must be positive, ReconnectDelayMax at least ReconnectDelayMin, ReconnectAttemptsMax at least 1.");
        }

        if (ConnectTimeout <= TimeSpan.Zero || AcknowledgementTimeout <= TimeSpan.Zero)
        {
            MqttThrow.Options("ConnectTimeout and AcknowledgementTimeout must be positive.");
        }

        if (ClientId.Length == 0 && !CleanSession)
        {
            MqttThrow.Options("An empty ClientId needs CleanSession = true: a persistent session needs a stable identifier.");
        }

        MqttUtf8.GetByteCount(ClientId, "client identifier");
    }
}
