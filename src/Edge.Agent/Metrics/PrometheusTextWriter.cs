using System.Globalization;
using System.Text;

namespace CortexEdge.Agent.Metrics;

/// <summary>
/// Writes metrics in the Prometheus text exposition format (version 0.0.4): one HELP and TYPE
/// line per family, then its samples. Label values are escaped per the format. Not thread-safe;
/// one writer per scrape.
/// </summary>
public sealed class PrometheusTextWriter
{
    /// <summary>The Content-Type of a scrape response.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();
    private readonly HashSet<string> _families = new(StringComparer.Ordinal);

    /// <summary>Declares a metric family; call once per name before its samples.</summary>
    /// <param name="name">Metric name, [a-zA-Z_:][a-zA-Z0-9_:]*.</param>
    /// <param name="type">counter, gauge, histogram, summary or untyped.</param>
    /// <param name="help">One line of help text.</param>
    /// <exception cref="ArgumentException">The name is invalid or already declared.</exception>
    public PrometheusTextWriter Family(string name, string type, string help)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid Prometheus metric name", nameof(name));
        }

        if (!_families.Add(name))
        {
            throw new ArgumentException($"metric family '{name}' declared twice", nameof(name));
        }

        _text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    /// <summary>Writes one sample of a declared family.</summary>
    public PrometheusTextWriter Sample(string name, double value, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        _text.Append(name);
        if (labels.Length > 0)
        {
            _text.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                {
                    _text.Append(',');
                }

                _text.Append(labels[i].Name).Append("=\"");
                foreach (char c in labels[i].Value)
                {
                    _ = c switch
                    {
                        '\\' => _text.Append("\\\\"),
                        '"' => _text.Append("\\\""),
                        '\n' => _text.Append("\\n"),
                        _ => _text.Append(c),
                    };
                }

                _text.Append('"');
            }

            _text.Append('}');
        }

        _text.Append(' ').Append(FormatValue(value)).Append('\n');
        return this;
    }

    /// <inheritdoc />
    public override string ToString() => _text.ToString();

    private static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static bool IsValidName(string name)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] is '_' or ':'))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or ':'))
            {
                return false;
            }
        }

        return true;
    }
}
