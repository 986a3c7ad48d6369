namespace CortexEdge.Agent.Ingest;

/// <summary>
/// An MQTT topic filter (<c>+</c> one level, <c>#</c> the rest) that also captures what its
/// wildcards matched, so a rule can name the series after the topic (<c>{1}.temp</c>).
/// Immutable and thread-safe.
/// </summary>
public sealed class TopicPattern
{
    private readonly string[] _levels;

    private TopicPattern(string filter, string[] levels, int wildcardCount)
    {
        Filter = filter;
        _levels = levels;
        WildcardCount = wildcardCount;
    }

    /// <summary>The filter text.</summary>
    public string Filter { get; }

    /// <summary>How many wildcards (and so captures) the filter has.</summary>
    public int WildcardCount { get; }

    /// <summary>Parses a topic filter per MQTT 3.1.1 §4.7.</summary>
    /// <param name="filter">The filter, e.g. <c>sensors/+/temp</c>.</param>
    /// <param name="pattern">The parsed pattern when the result is true.</param>
    /// <param name="error">Why the filter is invalid when the result is false.</param>
    public static bool TryParse(string filter, out TopicPattern? pattern, out string? error)
    {
        pattern = null;
        error = null;
        if (string.IsNullOrEmpty(filter))
        {
            error = "a topic filter must not be empty";
            return false;
        }

        if (filter.Contains('\0', StringComparison.Ordinal))
        {
            error = "a topic filter must not contain U+0000";
            return false;
        }

        string[] levels = filter.Split('/');
        int wildcards = 0;
        for (int i = 0; i < levels.Length; i++)
        {
            string level = levels[i];
            if (level == "#")
            {
                if (i != levels.Length - 1)
                {
                    error = "'#' must be the last level of a topic filter";
                    return false;
                }

                wildcards++;
            }
            else if (level == "+")
            {
                wildcards++;
            }
            else if (level.Contains('#', StringComparison.Ordinal) || level.Contains('+', StringComparison.Ordinal))
            {
                error = $"wildcard inside level '{level}': '+' and '#' must occupy a whole level";
                return false;
            }
        }

        pattern = new TopicPattern(filter, levels, wildcards);
        return true;
    }

    /// <summary>
    /// Matches a topic name, writing the text each wildcard matched into <paramref name="captures"/>
    /// (length at least <see cref="WildcardCount"/>). A leading-<c>$</c> topic never matches a
    /// filter starting with a wildcard (MQTT 3.1.1 §4.7.2).
    /// </summary>
    public bool TryMatch(string topic, Span<string> captures)
    {
        if (topic.Length == 0 || (topic[0] == '$' && (_levels[0] == "+" || _levels[0] == "#")))
        {
            return false;
        }

        int captureIndex = 0;
        int position = 0;
        for (int i = 0; i < _levels.Length; i++)
        {
            string level = _levels[i];
            if (level == "#")
            {
                // '#' also matches the parent level itself ("a/#" matches "a").
                captures[captureIndex] = position <= topic.Length ? topic[Math.Min(position, topic.Length)..] : "";
                return true;
            }

            if (position > topic.Length)
            {
                return false;
            }

            int end = topic.IndexOf('/', position);
            bool last = end < 0;
            if (last)
            {
                end = topic.Length;
            }

            ReadOnlySpan<char> segment = topic.AsSpan(position, end - position);
            if (level == "+")
            {
                captures[captureIndex++] = segment.ToString();
            }
            else if (!segment.SequenceEqual(level))
            {
                return false;
            }

            position = end + 1;
            if (last)
            {
                // Topic exhausted: matches only if the filter is too, or continues with "#".
                return i == _levels.Length - 1 || (i == _levels.Length - 2 && _levels[^1] == "#" && SetEmpty(captures, captureIndex));
            }
        }

        return false; // filter exhausted, topic has more levels
    }

    private static bool SetEmpty(Span<string> captures, int index)
    {
        captures[index] = "";
        return true;
    }
}
