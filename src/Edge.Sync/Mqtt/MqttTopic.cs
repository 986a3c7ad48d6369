namespace CortexEdge.Sync.Mqtt;

/// <summary>
/// Topic name and topic filter rules (MQTT 3.1.1 section 4.7, 5.0 section 4.7): validation and
/// matching. Thread-safe; allocates nothing.
/// </summary>
public static class MqttTopic
{
    private const string SharePrefix = "$share/";

    /// <summary>True when <paramref name="topic"/> is a valid topic name to publish to.</summary>
    public static bool IsValidTopicName(string? topic) => topic is not null && GetTopicNameError(topic) is null;

    /// <summary>True when <paramref name="filter"/> is a valid topic filter to subscribe with.</summary>
    public static bool IsValidTopicFilter(string? filter) => filter is not null && GetTopicFilterError(filter) is null;

    /// <summary>Throws unless <paramref name="topic"/> is a valid topic name.</summary>
    /// <exception cref="MqttProtocolException">Code <see cref="MqttErrorCode.InvalidTopicName"/> with the reason.</exception>
    public static void ValidateTopicName(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        string? error = GetTopicNameError(topic);
        if (error is not null)
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidTopicName, $"Topic name '{topic}' is invalid: {error}.", MqttReasonCode.TopicNameInvalid);
        }
    }

    /// <summary>Throws unless <paramref name="filter"/> is a valid topic filter (wildcards, $share).</summary>
    /// <exception cref="MqttProtocolException">Code <see cref="MqttErrorCode.InvalidTopicFilter"/> with the reason.</exception>
    public static void ValidateTopicFilter(string filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        string? error = GetTopicFilterError(filter);
        if (error is not null)
        {
            throw new MqttProtocolException(MqttErrorCode.InvalidTopicFilter, $"Topic filter '{filter}' is invalid: {error}.", MqttReasonCode.TopicFilterInvalid);
        }
    }

    /// <summary>
    /// True when <paramref name="topic"/> matches <paramref name="filter"/>. A filter starting
    /// with a wildcard does not match topics starting with '$'. A shared subscription filter
    /// (<c>$share/group/filter</c>) matches as its inner filter. Both arguments must be valid.
    /// </summary>
    public static bool Matches(string filter, string topic)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(topic);
        ReadOnlySpan<char> f = filter;
        if (f.StartsWith(SharePrefix, StringComparison.Ordinal))
        {
            int slash = f[SharePrefix.Length..].IndexOf('/');
            if (slash < 0)
            {
                return false;
            }

            f = f[(SharePrefix.Length + slash + 1)..];
        }

        ReadOnlySpan<char> t = topic;
        if (t.Length > 0 && t[0] == '$' && f.Length > 0 && (f[0] == '+' || f[0] == '#'))
        {
            return false;
        }

        while (true)
        {
            int fEnd = f.IndexOf('/');
            ReadOnlySpan<char> fLevel = fEnd < 0 ? f : f[..fEnd];
            if (fLevel.Length == 1 && fLevel[0] == '#')
            {
                return true;
            }

            int tEnd = t.IndexOf('/');
            ReadOnlySpan<char> tLevel = tEnd < 0 ? t : t[..tEnd];
            bool levelMatches = (fLevel.Length == 1 && fLevel[0] == '+') || fLevel.SequenceEqual(tLevel);
            if (!levelMatches)
            {
                return false;
            }

            if (fEnd < 0 && tEnd < 0)
            {
                return true;
            }

            if (tEnd < 0)
            {
                // The topic ended; "a/#" also matches "a" (the parent level).
                ReadOnlySpan<char> restOfFilter = f[(fEnd + 1)..];
                return restOfFilter.Length == 1 && restOfFilter[0] == '#';
            }

            if (fEnd < 0)
            {
                return false;
            }

            f = f[(fEnd + 1)..];
            t = t[(tEnd + 1)..];
        }
    }

    internal static string? GetTopicNameError(string topic)
    {
        if (topic.Length == 0)
        {
            return "it is empty";
        }

        int wildcard = topic.AsSpan().IndexOfAny('+', '#');
        if (wildcard >= 0)
        {
            return $"it contains the wildcard '{topic[wildcard]}' at index {wildcard}";
        }

        return topic.Contains('\0', StringComparison.Ordinal) ? "it contains U+0000" : null;
    }

    internal static string? GetTopicFilterError(string filter)
    {
        if (filter.Length == 0)
        {
            return "it is empty";
        }

        if (filter.Contains('\0', StringComparison.Ordinal))
        {
            return "it contains U+0000";
        }

        ReadOnlySpan<char> f = filter;
        if (f.StartsWith(SharePrefix, StringComparison.Ordinal))
        {
            ReadOnlySpan<char> rest = f[SharePrefix.Length..];
            int slash = rest.IndexOf('/');
            if (slash <= 0)
            {
                return "a shared subscription needs a non-empty share name followed by '/' and a filter";
            }

            if (rest[..slash].IndexOfAny('+', '#') >= 0)
            {
                return "the share name contains a wildcard";
            }

            f = rest[(slash + 1)..];
            if (f.Length == 0)
            {
                return "the shared subscription has no filter";
            }
        }

        for (int i = 0; i < f.Length; i++)
        {
            char c = f[i];
            if (c == '#')
            {
                if (i != f.Length - 1)
                {
                    return $"'#' at index {i} is not the last character";
                }

                if (i > 0 && f[i - 1] != '/')
                {
                    return $"'#' at index {i} does not occupy a whole level";
                }
            }
            else if (c == '+')
            {
                bool startsLevel = i == 0 || f[i - 1] == '/';
                bool endsLevel = i == f.Length - 1 || f[i + 1] == '/';
                if (!startsLevel || !endsLevel)
                {
                    return $"'+' at index {i} does not occupy a whole level";
                }
            }
        }

        return null;
    }
}
