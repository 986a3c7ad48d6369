using System.Text;

namespace CortexEdge.Agent.Ingest;

/// <summary>
/// A series name with placeholders <c>{1}</c>, <c>{2}</c>... replaced by the segments a topic
/// pattern's wildcards captured. Immutable and thread-safe.
/// </summary>
public sealed class SeriesTemplate
{
    private readonly (string Literal, int Capture)[] _parts;

    private SeriesTemplate(string text, (string, int)[] parts, int highestCapture)
    {
        Text = text;
        _parts = parts;
        HighestCapture = highestCapture;
    }

    /// <summary>The template text.</summary>
    public string Text { get; }

    /// <summary>The largest placeholder number used (0 when none).</summary>
    public int HighestCapture { get; }

    /// <summary>Parses a template; <c>{{</c> and <c>}}</c> stand for literal braces.</summary>
    public static bool TryParse(string text, out SeriesTemplate? template, out string? error)
    {
        template = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "a series template must not be empty";
            return false;
        }

        var parts = new List<(string, int)>();
        var literal = new StringBuilder();
        int highest = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '{' && i + 1 < text.Length && text[i + 1] == '{')
            {
                literal.Append('{');
                i++;
            }
            else if (c == '}' && i + 1 < text.Length && text[i + 1] == '}')
            {
                literal.Append('}');
                i++;
            }
            else if (c == '{')
            {
                int close = text.IndexOf('}', i);
                if (close < 0 || !int.TryParse(text.AsSpan(i + 1, close - i - 1), out int number) || number < 1)
                {
                    error = $"bad placeholder at position {i}: use {{1}}, {{2}}... for the wildcard captures";
                    return false;
                }

                if (literal.Length > 0)
                {
                    parts.Add((literal.ToString(), 0));
                    literal.Clear();
                }

                parts.Add(("", number));
                highest = Math.Max(highest, number);
                i = close;
            }
            else if (c == '}')
            {
                error = $"unmatched '}}' at position {i}";
                return false;
            }
            else
            {
                literal.Append(c);
            }
        }

        if (literal.Length > 0)
        {
            parts.Add((literal.ToString(), 0));
        }

        template = new SeriesTemplate(text, [.. parts], highest);
        return true;
    }

    /// <summary>Builds the series name from the captures (1-based placeholders).</summary>
    public string Format(ReadOnlySpan<string> captures)
    {
        if (_parts.Length == 1 && _parts[0].Capture == 0)
        {
            return _parts[0].Literal;
        }

        var builder = new StringBuilder();
        foreach (var (literal, capture) in _parts)
        {
            builder.Append(capture == 0 ? literal : captures[capture - 1]);
        }

        return builder.ToString();
    }
}
