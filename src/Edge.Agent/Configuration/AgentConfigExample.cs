namespace CortexEdge.Agent.Configuration;

/// <summary>The commented example printed by <c>cortex-edge config example</c>; it is itself a valid file.</summary>
public static class AgentConfigExample
{
    /// <summary>The example text (JSON with // comments, which the reader accepts).</summary>
    public const string Text = """
{
  // edge: a gateway that stores what its sensors publish and syncs with the leader.
  // leader: the upstream node every edge syncs with. replica: a read replica of the leader.
  "role": "edge",
  "node": "gateway-01",            // this node's name in topics and broker credentials
  "fleet": "plant-a",              // the deployment: topics are ce/{fleet}/...
  "dataDirectory": "/var/lib/cortex-edge",

  // none | periodic | group | always. group: a write is acknowledged after the flush that
  // covers it, flushes are shared by concurrent writers and start at most intervalMs apart.
  // checkpointIntervalMs: longest a write stays only in the WAL before SQLite gets it (fewer,
  // larger checkpoints write less flash).
  "durability": { "mode": "group", "intervalMs": 10, "checkpointIntervalMs": 30000 },

  // The WAL is also the offline queue: past this size writes fail with a clear error.
  "quotas": { "walBytes": 1073741824 },

  "brokers": {
    // Where the leader is reached. TLS with a CA file; client certificate optional.
    "upstream": {
      "host": "broker.example.net", "port": 8883,
      "username": "gateway-01", "passwordFile": "/etc/cortex-edge/mqtt-password",
      "tls": { "caFile": "/etc/cortex-edge/ca.pem" },
      "keepAliveSeconds": 30
    },
    // The site's own broker, where sensors (mosquitto_pub, Node-RED) publish.
    "local": { "host": "127.0.0.1", "port": 1883 }
  },

  "ingest": {
    "rules": [
      // sensors/boiler/temp with payload 21.5 -> series boiler.temp, stamped on arrival
      { "topic": "sensors/+/temp", "series": "{1}.temp", "format": "number" },
      // {"v": 3.1, "ts": 1700000000000} -> series meters.<name>
      { "topic": "meters/+/json", "series": "meters.{1}", "format": "json",
        "valuePath": "v", "timestampPath": "ts", "timestampUnit": "ms" },
      // buffered lines "1700000000,20.5\n1700000001,20.6"
      { "topic": "loggers/#", "series": "log.{1}", "format": "lines", "timestampUnit": "s" }
    ],
    "batchMaxReadings": 16384,     // readings per WAL record at most
    "batchMaxDelayMs": 1000        // a reading waits at most this long for its batch (acknowledged to the broker once written)
  },

  // Per collection: direction (up, down, both, local-only), priority (0 highest),
  // fields that never leave the device, and whether its oldest unsent ops may be dropped
  // (counted) when the offline queue fills the WAL quota, instead of refusing writes.
  "manifest": {
    "alarms": { "direction": "up", "priority": 0 },
    "readings": { "direction": "up", "priority": 2, "droppable": true },
    "config": { "direction": "down", "priority": 0 },
    "assets": { "direction": "both", "priority": 1, "localOnlyFields": ["operatorNotes"] }
  },

  // Anti-entropy. The leader's pace travels in the manifest: every node verifies the collections
  // that travel against the leader this often and repairs what differs (0: only on demand).
  "verify": { "intervalSeconds": 3600, "replyTimeoutSeconds": 10 },

  "syncPolicy": {
    "lowBatteryPercent": 30,       // discharging below this: priority collections only
    "criticalBatteryPercent": 10,  // below this: defer (unless the queue is nearly full)
    "meteredInterfaces": ["wwan0"],
    "backlogMaxAgeMinutes": 360,   // on a metered link, send everything once the backlog is this old
    "quotaNearlyFullPercent": 90,  // sync now, whatever else holds
    // how stale unsent data may get before a burst must carry it (priority 0 = high)
    "freshnessSeconds": { "high": 60, "normal": 3600, "low": 21600 },
    "burstLeadSeconds": 10         // start the burst this long before a bound
    // "mainsLostLine": { "chip": "/dev/gpiochip0", "line": 17, "activeLow": true }
  },

  // Local HTTP API. Binding to a non-loopback address requires a token file.
  "api": { "bind": "127.0.0.1:8080" }
}
""";
}
