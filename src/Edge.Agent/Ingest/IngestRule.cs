using CortexEdge.Agent.Configuration;

namespace CortexEdge.Agent.Ingest;

/// <summary>
/// A compiled ingest rule: which topics it takes, the series it writes, how payloads parse, and
/// its counters (read by /metrics). Counters are updated with Interlocked; the rule is thread-safe.
/// </summary>
public sealed class IngestRule
{
    private long _messages;
    private long _readings;
    private long _parseErrors;

    /// <summary>Creates a rule from its parts.</summary>
    public IngestRule(TopicPattern pattern, SeriesTemplate series, PayloadParser parser)
    {
        if (series.HighestCapture > pattern.WildcardCount)
        {
            throw new ArgumentException($"series '{series.Text}' uses {{{series.HighestCapture}}} but '{pattern.Filter}' has {pattern.WildcardCount} wildcard(s)", nameof(series));
        }

        Pattern = pattern;
        Series = series;
        Parser = parser;
    }

    /// <summary>The topic filter.</summary>
    public TopicPattern Pattern { get; }

    /// <summary>The series name template.</summary>
    public SeriesTemplate Series { get; }

    /// <summary>The payload parser.</summary>
    public PayloadParser Parser { get; }

    /// <summary>Messages this rule handled.</summary>
    public long Messages => Interlocked.Read(ref _messages);

    /// <summary>Readings this rule produced.</summary>
    public long Readings => Interlocked.Read(ref _readings);

    /// <summary>Payloads that did not parse.</summary>
    public long ParseErrors => Interlocked.Read(ref _parseErrors);

    internal void CountMessage(int readings)
    {
        Interlocked.Increment(ref _messages);
        Interlocked.Add(ref _readings, readings);
    }

    internal long CountParseError()
    {
        Interlocked.Increment(ref _messages);
        return Interlocked.Increment(ref _parseErrors);
    }

    /// <summary>Compiles validated configuration rules (see <see cref="AgentConfigReader"/>).</summary>
    /// <exception cref="ArgumentException">A rule is invalid; the message names it.</exception>
    public static IReadOnlyList<IngestRule> FromConfig(IngestConfig config)
    {
        var rules = new List<IngestRule>(config.Rules.Count);
        for (int i = 0; i < config.Rules.Count; i++)
        {
            IngestRuleConfig rule = config.Rules[i];
            if (!TopicPattern.TryParse(rule.Topic, out TopicPattern? pattern, out string? error) ||
                !SeriesTemplate.TryParse(rule.Series, out SeriesTemplate? series, out error))
            {
                throw new ArgumentException($"ingest.rules[{i}]: {error}");
            }

            TimestampUnit unit = rule.TimestampUnit switch
            {
                "s" => TimestampUnit.Seconds,
                "us" => TimestampUnit.Microseconds,
                _ => TimestampUnit.Milliseconds,
            };
            rules.Add(new IngestRule(pattern!, series!, PayloadParser.Create(rule.Format, rule.ValuePath, rule.TimestampPath, unit)));
        }

        return rules;
    }
}
