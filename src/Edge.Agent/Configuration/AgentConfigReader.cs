using System.Net;
using System.Text.Json;
using CortexEdge.Agent.Ingest;

namespace CortexEdge.Agent.Configuration;

/// <summary>
/// Reads and validates the agent's configuration. Every problem is reported with the JSON path
/// of the field, all at once, so an operator fixes a file in one pass.
/// </summary>
public static class AgentConfigReader
{
    private static readonly string[] Roles = ["edge", "leader", "replica"];
    private static readonly string[] DurabilityModes = ["none", "periodic", "group", "always"];
    private static readonly string[] Formats = ["number", "json", "lines"];
    private static readonly string[] Units = ["ms", "s", "us"];
    private static readonly string[] Directions = ["up", "down", "both", "local-only"];

    /// <summary>Reads a configuration file.</summary>
    /// <returns>The configuration (null when it could not be read) and every error found.</returns>
    public static (AgentConfig? Config, IReadOnlyList<ConfigError> Errors) ReadFile(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, [new ConfigError("$", $"cannot read {path}: {ex.Message}")]);
        }

        return Read(json);
    }

    /// <summary>Parses and validates configuration text.</summary>
    public static (AgentConfig? Config, IReadOnlyList<ConfigError> Errors) Read(string json)
    {
        AgentConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(json, AgentConfigJsonContext.Default.AgentConfig);
        }
        catch (JsonException ex)
        {
            string path = ex.Path ?? "$";
            string message = ex.Message;
            int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[..cut];
            }

            // The serializer names the CLR type for unknown fields; an operator needs the field.
            if (message.Contains("could not be mapped", StringComparison.Ordinal))
            {
                int start = message.IndexOf('\'') + 1;
                int end = message.IndexOf('\'', start);
                string field = end > start ? message[start..end] : "?";
                path = path.EndsWith("." + field, StringComparison.Ordinal) ? path : $"{path}.{field}";
                message = $"unknown field '{field}'";
            }

            return (null, [new ConfigError(path, message)]);
        }

        if (config is null)
        {
            return (null, [new ConfigError("$", "the file holds no configuration object")]);
        }

        var errors = new List<ConfigError>();
        Validate(config, errors);
        return (config, errors);
    }

    private static void Validate(AgentConfig config, List<ConfigError> errors)
    {
        OneOf(errors, "$.role", config.Role, Roles);
        if (config.Role is "edge" or "replica" && string.IsNullOrWhiteSpace(config.Node))
        {
            errors.Add(new ConfigError("$.node", $"a {config.Role} needs a node name"));
        }

        if (config.Node is { } node && !IsTopicLevel(node))
        {
            errors.Add(new ConfigError("$.node", "must be a non-empty topic level without '/', '+', '#'"));
        }

        if (!IsTopicLevel(config.Fleet))
        {
            errors.Add(new ConfigError("$.fleet", "must be a non-empty topic level without '/', '+', '#'"));
        }

        if (string.IsNullOrWhiteSpace(config.DataDirectory))
        {
            errors.Add(new ConfigError("$.dataDirectory", "must name a directory"));
        }

        OneOf(errors, "$.durability.mode", config.Durability.Mode, DurabilityModes);
        if (config.Durability.IntervalMs is < 1 or > 60_000)
        {
            errors.Add(new ConfigError("$.durability.intervalMs", "must be 1..60000 milliseconds"));
        }

        if (config.Durability.CheckpointIntervalMs is < 1 or > 3_600_000)
        {
            errors.Add(new ConfigError("$.durability.checkpointIntervalMs", "must be 1..3600000 milliseconds"));
        }

        if (config.Quotas.WalBytes < 16L << 20)
        {
            errors.Add(new ConfigError("$.quotas.walBytes", "must be at least 16 MiB (16777216)"));
        }

        ValidateBroker(errors, "$.brokers.upstream", config.Brokers.Upstream);
        ValidateBroker(errors, "$.brokers.local", config.Brokers.Local);
        if (config.Role == "replica" && config.Brokers.Upstream is null)
        {
            errors.Add(new ConfigError("$.brokers.upstream", "a replica follows the leader through the upstream broker"));
        }

        if (config.Role == "replica" && config.Ingest.Rules.Count > 0)
        {
            errors.Add(new ConfigError("$.ingest.rules", "a read replica takes no writes: ingest belongs on the leader or an edge node"));
        }

        if (config.Ingest.Rules.Count > 0 && config.Brokers.Local is null)
        {
            errors.Add(new ConfigError("$.brokers.local", "ingest rules need the site's local broker"));
        }

        if (config.Ingest.BatchMaxReadings is < 1 or > 100_000)
        {
            errors.Add(new ConfigError("$.ingest.batchMaxReadings", "must be 1..100000"));
        }

        if (config.Ingest.BatchMaxDelayMs is < 1 or > 60_000)
        {
            errors.Add(new ConfigError("$.ingest.batchMaxDelayMs", "must be 1..60000 milliseconds"));
        }

        for (int i = 0; i < config.Ingest.Rules.Count; i++)
        {
            ValidateRule(errors, $"$.ingest.rules[{i}]", config.Ingest.Rules[i]);
        }

        foreach (var (name, collection) in config.Manifest)
        {
            string path = $"$.manifest.{name}";
            OneOf(errors, path + ".direction", collection.Direction, Directions);
            if (collection.Priority is < 0 or > 9)
            {
                errors.Add(new ConfigError(path + ".priority", "must be 0 (highest) .. 9"));
            }
        }

        if (config.Verify.IntervalSeconds < 0)
        {
            errors.Add(new ConfigError("$.verify.intervalSeconds", "must be 0 (only on demand) or more seconds"));
        }

        if (config.Verify.ReplyTimeoutSeconds is < 1 or > 600)
        {
            errors.Add(new ConfigError("$.verify.replyTimeoutSeconds", "must be 1..600 seconds"));
        }

        ValidatePolicy(errors, config.SyncPolicy);
        ValidateApi(errors, config.Api);
    }

    private static void ValidateBroker(List<ConfigError> errors, string path, BrokerConfig? broker)
    {
        if (broker is null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(broker.Host))
        {
            errors.Add(new ConfigError(path + ".host", "must name a host"));
        }

        if (broker.Port is < 1 or > 65535)
        {
            errors.Add(new ConfigError(path + ".port", "must be 1..65535"));
        }

        if (broker.KeepAliveSeconds is < 0 or > 65535)
        {
            errors.Add(new ConfigError(path + ".keepAliveSeconds", "must be 0..65535 seconds"));
        }

        if (broker.PasswordFile is not null && broker.Username is null)
        {
            errors.Add(new ConfigError(path + ".username", "a password needs a user name (MQTT 3.1.1 §3.1.2.9)"));
        }

        if (broker.Tls is { } tls && (tls.CertFile is null) != (tls.KeyFile is null))
        {
            errors.Add(new ConfigError(path + ".tls", "certFile and keyFile go together"));
        }
    }

    private static void ValidateRule(List<ConfigError> errors, string path, IngestRuleConfig rule)
    {
        int wildcards = 0;
        if (!TopicPattern.TryParse(rule.Topic, out TopicPattern? pattern, out string? topicError))
        {
            errors.Add(new ConfigError(path + ".topic", topicError!));
        }
        else
        {
            wildcards = pattern!.WildcardCount;
        }

        if (!SeriesTemplate.TryParse(rule.Series, out SeriesTemplate? template, out string? seriesError))
        {
            errors.Add(new ConfigError(path + ".series", seriesError!));
        }
        else if (pattern is not null && template!.HighestCapture > wildcards)
        {
            errors.Add(new ConfigError(path + ".series", $"uses {{{template.HighestCapture}}} but the topic has {wildcards} wildcard(s)"));
        }

        OneOf(errors, path + ".format", rule.Format, Formats);
        OneOf(errors, path + ".timestampUnit", rule.TimestampUnit, Units);
        if (rule.Format != "json" && (rule.ValuePath is not null || rule.TimestampPath is not null))
        {
            errors.Add(new ConfigError(path + ".valuePath", "valuePath and timestampPath apply to the json format only"));
        }
    }

    private static void ValidatePolicy(List<ConfigError> errors, SyncPolicyConfig policy)
    {
        const string path = "$.syncPolicy";
        if (policy.CriticalBatteryPercent is < 0 or > 100)
        {
            errors.Add(new ConfigError(path + ".criticalBatteryPercent", "must be 0..100"));
        }

        if (policy.LowBatteryPercent is < 0 or > 100 || policy.LowBatteryPercent < policy.CriticalBatteryPercent)
        {
            errors.Add(new ConfigError(path + ".lowBatteryPercent", "must be 0..100 and not below criticalBatteryPercent"));
        }

        if (policy.QuotaNearlyFullPercent is < 1 or > 100)
        {
            errors.Add(new ConfigError(path + ".quotaNearlyFullPercent", "must be 1..100"));
        }

        if (policy.CheckIntervalSeconds is < 1 or > 86_400)
        {
            errors.Add(new ConfigError(path + ".checkIntervalSeconds", "must be 1..86400 seconds"));
        }

        if (policy.BacklogMaxAgeMinutes < 1)
        {
            errors.Add(new ConfigError(path + ".backlogMaxAgeMinutes", "must be at least 1"));
        }

        if (policy.PullIntervalSeconds is < 0 or > 7 * 86_400)
        {
            errors.Add(new ConfigError(path + ".pullIntervalSeconds", "must be 0..604800 seconds (0: no pull without an upload)"));
        }

        if (policy.BurstLeadSeconds is < 0 or > 3600)
        {
            errors.Add(new ConfigError(path + ".burstLeadSeconds", "must be 0..3600 seconds"));
        }

        foreach ((string name, int bound) in (ReadOnlySpan<(string, int)>)[("high", policy.FreshnessSeconds.High), ("normal", policy.FreshnessSeconds.Normal), ("low", policy.FreshnessSeconds.Low)])
        {
            if (bound <= policy.BurstLeadSeconds || bound > 7 * 86_400)
            {
                errors.Add(new ConfigError(path + ".freshnessSeconds." + name, "must exceed burstLeadSeconds and be at most 604800 (7 days)"));
            }
        }

        if (policy.MainsLostLine is { } line && (line.Line < 0 || !line.Chip.StartsWith("/dev/gpiochip", StringComparison.Ordinal)))
        {
            errors.Add(new ConfigError(path + ".mainsLostLine", "needs chip /dev/gpiochipN and a line offset >= 0"));
        }
    }

    private static void ValidateApi(List<ConfigError> errors, ApiConfig api)
    {
        int colon = api.Bind.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(api.Bind.AsSpan(colon + 1), out int port) || port is < 0 or > 65535)
        {
            errors.Add(new ConfigError("$.api.bind", "must be ADDRESS:PORT, e.g. 127.0.0.1:8080 (port 0 picks a free port)"));
            return;
        }

        string host = api.Bind[..colon].Trim('[', ']');
        bool loopback = host == "localhost" || (IPAddress.TryParse(host, out IPAddress? address) && IPAddress.IsLoopback(address));
        if (!loopback && api.TokenFile is null)
        {
            errors.Add(new ConfigError("$.api.tokenFile", $"binding to {host} (not loopback) requires a token file"));
        }
    }

    private static void OneOf(List<ConfigError> errors, string path, string value, string[] allowed)
    {
        if (Array.IndexOf(allowed, value) < 0)
        {
            errors.Add(new ConfigError(path, $"'{value}' is not one of {string.Join(", ", allowed)}"));
        }
    }

    private static bool IsTopicLevel(string value) =>
        !string.IsNullOrWhiteSpace(value) && value.IndexOfAny(['/', '+', '#', '\0']) < 0;
}
