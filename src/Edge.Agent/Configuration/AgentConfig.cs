namespace CortexEdge.Agent.Configuration;

/// <summary>
/// The agent's configuration file (JSON, comments allowed). Unknown fields are errors. Every
/// section has sane defaults so a minimal file names only the role and the data directory.
/// Properties are settable, not init-only: the JSON source generator sets init-only properties
/// through an object initializer, which would replace every default with default(T).
/// </summary>
public sealed record AgentConfig
{
    /// <summary>edge, leader or replica.</summary>
    public string Role { get; set; } = "edge";

    /// <summary>Node name (edge) or replica name (replica): used in topics and credentials.</summary>
    public string? Node { get; set; }

    /// <summary>The deployment this node belongs to (topic prefix ce/{fleet}/...).</summary>
    public string Fleet { get; set; } = "default";

    /// <summary>The database directory (created on first use).</summary>
    public string DataDirectory { get; set; } = "/var/lib/cortex-edge";

    /// <summary>WAL durability mode.</summary>
    public DurabilityConfig Durability { get; set; } = new();

    /// <summary>Storage limits.</summary>
    public QuotaConfig Quotas { get; set; } = new();

    /// <summary>The upstream broker (sync with the leader) and the site's local broker (sensor ingest).</summary>
    public BrokersConfig Brokers { get; set; } = new();

    /// <summary>Sensor ingest rules.</summary>
    public IngestConfig Ingest { get; set; } = new();

    /// <summary>Replication manifest: per collection direction, priority and local-only fields.</summary>
    public Dictionary<string, CollectionConfig> Manifest { get; set; } = [];

    /// <summary>Anti-entropy: the pace the leader sets for the fleet's verify rounds.</summary>
    public VerifyConfig Verify { get; set; } = new();

    /// <summary>When to sync (battery, network, backlog thresholds).</summary>
    public SyncPolicyConfig SyncPolicy { get; set; } = new();

    /// <summary>Local HTTP API.</summary>
    public ApiConfig Api { get; set; } = new();
}

/// <summary>WAL durability: none, periodic, group or always, with the interval for periodic/group.</summary>
public sealed record DurabilityConfig
{
    /// <summary>none | periodic | group | always.</summary>
    public string Mode { get; set; } = "group";

    /// <summary>Flush interval (periodic) or the longest wait for a group flush (group), in milliseconds.</summary>
    public int IntervalMs { get; set; } = 10;

    /// <summary>
    /// Longest time a write waits in the WAL before the background checkpoint puts it into SQLite,
    /// in milliseconds (default 30 s; a busy log checkpoints sooner, every 8192 records). Every
    /// checkpoint rewrites SQLite's bookkeeping pages, so a longer interval writes less flash; the
    /// WAL holds the data durably meanwhile.
    /// </summary>
    public int CheckpointIntervalMs { get; set; } = 30_000;
}

/// <summary>Storage limits.</summary>
public sealed record QuotaConfig
{
    /// <summary>Largest size of the WAL (the offline queue), in bytes. Default 1 GiB.</summary>
    public long WalBytes { get; set; } = 1L << 30;
}

/// <summary>Broker connections.</summary>
public sealed record BrokersConfig
{
    /// <summary>The broker the leader is reached through (absent: no sync).</summary>
    public BrokerConfig? Upstream { get; set; }

    /// <summary>The site's local broker sensors publish to (absent: no ingest).</summary>
    public BrokerConfig? Local { get; set; }
}

/// <summary>One MQTT broker endpoint and its credentials.</summary>
public sealed record BrokerConfig
{
    /// <summary>Host name or address.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port (1883 plain, 8883 TLS by convention).</summary>
    public int Port { get; set; } = 1883;

    /// <summary>MQTT user name.</summary>
    public string? Username { get; set; }

    /// <summary>File holding the MQTT password (kept out of the config file).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>TLS settings; absent means plain TCP.</summary>
    public TlsConfig? Tls { get; set; }

    /// <summary>Keep-alive interval in seconds.</summary>
    public int KeepAliveSeconds { get; set; } = 30;
}

/// <summary>TLS for a broker connection.</summary>
public sealed record TlsConfig
{
    /// <summary>CA certificate (PEM) the broker's certificate must chain to.</summary>
    public string? CaFile { get; set; }

    /// <summary>Client certificate (PEM), for brokers that authenticate nodes by certificate.</summary>
    public string? CertFile { get; set; }

    /// <summary>Private key (PEM) of the client certificate.</summary>
    public string? KeyFile { get; set; }
}

/// <summary>Sensor ingest: topic rules and batching.</summary>
public sealed record IngestConfig
{
    /// <summary>Rules, tried in order; the first whose topic pattern matches handles a message.</summary>
    public List<IngestRuleConfig> Rules { get; set; } = [];

    /// <summary>Readings per WAL batch at most (default 16,384: a burst is written in few, large flushes).</summary>
    public int BatchMaxReadings { get; set; } = 16_384;

    /// <summary>
    /// Longest time a reading waits for its batch to be written, in milliseconds (default 1000: each
    /// flush writes at least a flash page; messages are acknowledged to the broker only once written).
    /// </summary>
    public int BatchMaxDelayMs { get; set; } = 1000;
}

/// <summary>Maps an MQTT topic pattern to a series and says how to parse the payload.</summary>
public sealed record IngestRuleConfig
{
    /// <summary>MQTT topic filter, e.g. <c>sensors/+/temp</c>.</summary>
    public string Topic { get; set; } = "";

    /// <summary>Series name template; {1}, {2}... are the segments matched by the wildcards.</summary>
    public string Series { get; set; } = "";

    /// <summary>number | json | lines.</summary>
    public string Format { get; set; } = "number";

    /// <summary>For json: dotted path of the value field.</summary>
    public string? ValuePath { get; set; }

    /// <summary>For json: dotted path of the timestamp field (absent: arrival time).</summary>
    public string? TimestampPath { get; set; }

    /// <summary>Unit of payload timestamps: ms | s | us.</summary>
    public string TimestampUnit { get; set; } = "ms";
}

/// <summary>Replication settings of one collection.</summary>
public sealed record CollectionConfig
{
    /// <summary>up | down | both | local-only.</summary>
    public string Direction { get; set; } = "both";

    /// <summary>0 is the highest priority; priority-only syncs carry priority 0 collections.</summary>
    public int Priority { get; set; } = 1;

    /// <summary>Fields that never leave the device.</summary>
    public List<string> LocalOnlyFields { get; set; } = [];

    /// <summary>May the oldest unsent records be dropped when the WAL quota is reached?</summary>
    public bool Droppable { get; set; }
}

/// <summary>
/// Anti-entropy (docs/fleet.md). On the leader, <see cref="IntervalSeconds"/> is the fleet's pace:
/// it travels in the replication manifest and every edge node verifies each collection it shares
/// in full with the leader (both, down) that often, repairing what differs. Nodes take the pace from the
/// manifest, not from their own file.
/// </summary>
public sealed record VerifyConfig
{
    /// <summary>Seconds between verify rounds on every node (leader); 0: only on demand (<c>cortex-edge sync verify</c>). Default one hour.</summary>
    public int IntervalSeconds { get; set; } = 3600;

    /// <summary>Seconds a node waits for each reply from the leader.</summary>
    public int ReplyTimeoutSeconds { get; set; } = 10;
}

/// <summary>Sync policy thresholds (docs/sync-policy.md explains each rule).</summary>
public sealed record SyncPolicyConfig
{
    /// <summary>Battery percentage below which, while discharging, only priority collections sync.</summary>
    public int LowBatteryPercent { get; set; } = 30;

    /// <summary>Battery percentage below which sync is deferred.</summary>
    public int CriticalBatteryPercent { get; set; } = 10;

    /// <summary>Interfaces whose traffic costs money (e.g. wwan0).</summary>
    public List<string> MeteredInterfaces { get; set; } = [];

    /// <summary>Age of the oldest unsent op past which a metered link carries everything, in minutes.</summary>
    public int BacklogMaxAgeMinutes { get; set; } = 360;

    /// <summary>WAL quota use (percent) past which sync runs whatever else holds.</summary>
    public int QuotaNearlyFullPercent { get; set; } = 90;

    /// <summary>Per priority, how stale unsent data may get before a burst must carry it, in seconds.</summary>
    public FreshnessConfig FreshnessSeconds { get; set; } = new();

    /// <summary>
    /// While everything may go (an unrestricted decision), pull the leader's changes at least this
    /// often, in seconds, even with nothing to upload (the leader cannot wake a node); 0: only in
    /// bursts the upload side starts. Default 300.
    /// </summary>
    public int PullIntervalSeconds { get; set; } = 300;

    /// <summary>How many seconds before a freshness bound the burst starts.</summary>
    public int BurstLeadSeconds { get; set; } = 10;

    /// <summary>
    /// Longest wait between two decisions while data is pending, in seconds (notices link and
    /// battery changes that have no event); with nothing pending only a write or a power event wakes the loop.
    /// </summary>
    public int CheckIntervalSeconds { get; set; } = 60;

    /// <summary>Where batteries and supplies are read (a fake tree for tests and the demo).</summary>
    public string PowerSupplyRoot { get; set; } = "/sys/class/power_supply";

    /// <summary>Where network interfaces are read.</summary>
    public string NetClassRoot { get; set; } = "/sys/class/net";

    /// <summary>Where /proc/net (wireless, routes) is read.</summary>
    public string ProcNetRoot { get; set; } = "/proc/net";

    /// <summary>Optional "mains lost" GPIO line from a UPS board.</summary>
    public GpioLineConfig? MainsLostLine { get; set; }
}

/// <summary>Freshness bounds per sync priority, in seconds.</summary>
public sealed record FreshnessConfig
{
    /// <summary>Priority collections (priority 0). Default 60.</summary>
    public int High { get; set; } = 60;

    /// <summary>Ordinary collections. Default 3600.</summary>
    public int Normal { get; set; } = 3600;

    /// <summary>Bulk data. Default 21600 (6 h).</summary>
    public int Low { get; set; } = 21_600;
}

/// <summary>A GPIO line on a Linux GPIO character device.</summary>
public sealed record GpioLineConfig
{
    /// <summary>Chip device, e.g. /dev/gpiochip0.</summary>
    public string Chip { get; set; } = "/dev/gpiochip0";

    /// <summary>Line offset on the chip.</summary>
    public int Line { get; set; }

    /// <summary>True when a low level means "mains lost".</summary>
    public bool ActiveLow { get; set; }
}

/// <summary>The local HTTP API.</summary>
public sealed record ApiConfig
{
    /// <summary>Address and port to bind, e.g. 127.0.0.1:8080. A non-loopback address requires a token.</summary>
    public string Bind { get; set; } = "127.0.0.1:8080";

    /// <summary>File holding the bearer token clients must send.</summary>
    public string? TokenFile { get; set; }
}
