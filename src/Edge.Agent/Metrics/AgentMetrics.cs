using CortexEdge.Agent.Ingest;
using CortexEdge.Core;

namespace CortexEdge.Agent.Metrics;

/// <summary>
/// Gathers what <c>/metrics</c> exposes: ingest rate and parse errors, WAL size and quota, and the
/// figures other parts register (sync backlog, decisions, conflicts) through <see cref="Sources"/>.
/// </summary>
public sealed class AgentMetrics(EdgeDatabase database)
{
    /// <summary>The sensor ingest pipeline, when the agent runs one.</summary>
    public SensorIngest? Ingest { get; set; }

    /// <summary>More metric families written by other parts of the agent (sync, policy, replication).</summary>
    public List<Action<PrometheusTextWriter>> Sources { get; } = [];

    /// <summary>Renders every metric in the Prometheus text format.</summary>
    public string Render()
    {
        var writer = new PrometheusTextWriter();
        EdgeDatabaseStats stats = database.GetStats();
        writer.Family("ce_wal_used_bytes", "gauge", "Bytes of WAL segments on disk").Sample("ce_wal_used_bytes", stats.WalUsedBytes);
        writer.Family("ce_wal_quota_bytes", "gauge", "WAL quota in bytes").Sample("ce_wal_quota_bytes", stats.WalQuotaBytes);
        writer.Family("ce_wal_quota_ratio", "gauge", "WAL bytes used / quota").Sample("ce_wal_quota_ratio", stats.WalQuotaBytes == 0 ? 0 : (double)stats.WalUsedBytes / stats.WalQuotaBytes);
        writer.Family("ce_wal_dropped_ops_total", "counter", "Unsent own ops of droppable collections dropped from the upload queue at the WAL quota");
        foreach ((string collection, long count) in stats.DroppedOps)
        {
            writer.Sample("ce_wal_dropped_ops_total", count, ("collection", collection));
        }

        writer.Family("ce_wal_last_lsn", "gauge", "Last LSN appended").Sample("ce_wal_last_lsn", stats.LastLsn);
        writer.Family("ce_wal_durable_lsn", "gauge", "Last LSN made durable").Sample("ce_wal_durable_lsn", stats.DurableLsn);
        writer.Family("ce_checkpoint_lsn", "gauge", "LSN up to which SQLite holds the state").Sample("ce_checkpoint_lsn", stats.CheckpointLsn);
        writer.Family("ce_clock_skew_rejections_total", "counter", "Remote ops refused for clock skew").Sample("ce_clock_skew_rejections_total", stats.ClockSkewRejectionCount);
        writer.Family("ce_database_faulted", "gauge", "1 when the database refuses writes after an I/O fault").Sample("ce_database_faulted", stats.Fault is null ? 0 : 1);
        if (Ingest is { } ingest)
        {
            writer.Family("ce_ingest_readings_stored_total", "counter", "Readings written and acknowledged").Sample("ce_ingest_readings_stored_total", ingest.StoredReadings);
            writer.Family("ce_ingest_batches_total", "counter", "Batches written").Sample("ce_ingest_batches_total", ingest.Batches);
            writer.Family("ce_ingest_pending_readings", "gauge", "Readings parsed, not yet written").Sample("ce_ingest_pending_readings", ingest.PendingReadings);
            writer.Family("ce_ingest_unmatched_messages_total", "counter", "Messages no rule matched").Sample("ce_ingest_unmatched_messages_total", ingest.UnmatchedMessages);
            writer.Family("ce_ingest_write_errors_total", "counter", "Batch writes that failed (retried)").Sample("ce_ingest_write_errors_total", ingest.WriteErrors);
            writer.Family("ce_ingest_messages_total", "counter", "Messages handled per rule");
            foreach (IngestRule rule in ingest.Rules)
            {
                writer.Sample("ce_ingest_messages_total", rule.Messages, ("rule", rule.Pattern.Filter));
            }

            writer.Family("ce_ingest_parse_errors_total", "counter", "Payloads refused per rule");
            foreach (IngestRule rule in ingest.Rules)
            {
                writer.Sample("ce_ingest_parse_errors_total", rule.ParseErrors, ("rule", rule.Pattern.Filter));
            }
        }

        foreach (Action<PrometheusTextWriter> source in Sources)
        {
            source(writer);
        }

        return writer.ToString();
    }
}
