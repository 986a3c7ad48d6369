namespace CortexEdge.Agent.Configuration;

/// <summary>
/// The name patterns of the configuration (manifest entries, metered interfaces): a name matches a
/// pattern equal to it, or one ending in '*' whose text before the '*' it starts with ('*' alone
/// matches every name). Ordinal, case-sensitive.
/// </summary>
internal static class NamePattern
{
    /// <summary>Whether <paramref name="name"/> matches <paramref name="pattern"/>.</summary>
    public static bool Matches(string pattern, string name) =>
        string.Equals(name, pattern, StringComparison.Ordinal)
        || (pattern.EndsWith('*') && name.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal));

    /// <summary>Whether <paramref name="pattern"/> matches by prefix (ends in '*') rather than only the name equal to it.</summary>
    public static bool IsPrefix(string pattern) => pattern.EndsWith('*');
}
