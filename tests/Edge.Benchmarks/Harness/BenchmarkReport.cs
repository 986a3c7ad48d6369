using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CortexEdge.Benchmarks.Harness;

/// <summary>
/// Rows of "our figure beside the peer's figure, measured in the same run, as a ratio", grouped by
/// suite, written as Markdown.
/// </summary>
public sealed class BenchmarkReport
{
    private readonly List<(string Suite, string Title, List<string> Lines)> _sections = [];
    private readonly List<Entry> _entries = [];

    private sealed record Entry(string Suite, string Name, double Value, string Unit, string? Peer, double? PeerValue, double? Ratio, string? Note);

    public void BeginSuite(BenchmarkSuite suite) => _sections.Add((suite.Name, suite.Title, []));

    private List<string> Current => _sections[^1].Lines;

    /// <summary>
    /// Adds a comparison row. <paramref name="lowerIsBetter"/> decides the ratio's direction so that
    /// a ratio above 1 always means "CortexEdge is better by this factor".
    /// </summary>
    public void Compare(string metric, string unit, double ours, string peerName, double peer, bool lowerIsBetter, string? note = null)
    {
        double ratio = lowerIsBetter ? peer / ours : ours / peer;
        _entries.Add(new Entry(_sections[^1].Suite, metric, ours, unit, peerName, peer, ratio, note));
        Current.Add($"| {metric} | {Format(ours)} {unit} | {peerName} | {Format(peer)} {unit} | {ratio.ToString("0.00", CultureInfo.InvariantCulture)}x | {note ?? ""} |");
        Console.WriteLine($"  {metric}: ours {Format(ours)} {unit}, {peerName} {Format(peer)} {unit}, ratio {ratio:0.00}x");
    }

    /// <summary>Adds a figure that has no peer (explained in <paramref name="note"/>).</summary>
    public void Figure(string metric, string unit, double ours, string note)
    {
        _entries.Add(new Entry(_sections[^1].Suite, metric, ours, unit, null, null, null, note));
        Current.Add($"| {metric} | {Format(ours)} {unit} | — | — | — | {note} |");
        Console.WriteLine($"  {metric}: {Format(ours)} {unit} ({note})");
    }

    /// <summary>Adds free text under the suite's table (method, environment, caveats).</summary>
    public void Note(string text) => Current.Add("NOTE:" + text);

    public static string Format(double value) => value switch
    {
        >= 1000 => value.ToString("#,0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.000", CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The whole document: this run's sections, and — when <paramref name="previous"/> (an earlier
    /// BENCHMARKS.md) is given — the earlier sections of suites this run did not measure, kept
    /// verbatim with their own dates, so one suite can be re-measured without re-running the rest.
    /// </summary>
    public string ToMarkdown(string header, DateTime measuredAt, string? previous = null)
    {
        var kept = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (previous is not null)
        {
            foreach (string section in previous.Split("\n## ").Skip(1))
            {
                int start = section.IndexOf("Suite `", StringComparison.Ordinal);
                int end = start < 0 ? -1 : section.IndexOf('`', start + 7);
                string name = end < 0 ? string.Empty : section[(start + 7)..end];
                if (name.Length > 0 && !_sections.Any(s => s.Suite == name))
                {
                    kept[name] = "## " + section.TrimEnd() + "\n\n";
                }
            }
        }

        var sb = new StringBuilder();
        sb.AppendLine("# Benchmarks").AppendLine().AppendLine(header).AppendLine();
        var ordered = _sections.Select(s => (s.Suite, Text: (string?)null)).Concat(kept.Select(k => (Suite: k.Key, Text: (string?)k.Value))).OrderBy(s => s.Suite, StringComparer.Ordinal);
        foreach (var (name, text) in ordered)
        {
            if (text is not null)
            {
                sb.Append(text);
                continue;
            }

            var (suite, title, lines) = _sections.First(s => s.Suite == name);
            sb.AppendLine($"## {title}").AppendLine();
            sb.AppendLine($"Suite `{suite}`, measured {measuredAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC. A ratio above 1 means CortexEdge is better by that factor.").AppendLine();
            sb.AppendLine("| metric | CortexEdge | peer | peer figure | ratio | note |");
            sb.AppendLine("|---|---|---|---|---|---|");
            foreach (string line in lines.Where(l => !l.StartsWith("NOTE:", StringComparison.Ordinal)))
            {
                sb.AppendLine(line);
            }

            sb.AppendLine();
            foreach (string line in lines.Where(l => l.StartsWith("NOTE:", StringComparison.Ordinal)))
            {
                sb.AppendLine(line["NOTE:".Length..]).AppendLine();
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// One JSON entry per figure: name, value, unit, peer, peer_value, ratio, command, date, machine;
    /// entries of <paramref name="previous"/> (an earlier benchmarks.json) whose suite this run did not measure are kept.
    /// </summary>
    public string ToJson(string machine, DateTime date, string? previous = null)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            if (previous is not null)
            {
                using JsonDocument earlier = JsonDocument.Parse(previous);
                foreach (JsonElement entry in earlier.RootElement.EnumerateArray())
                {
                    if (entry.TryGetProperty("suite", out JsonElement suite) && !_sections.Any(s => s.Suite == suite.GetString()))
                    {
                        entry.WriteTo(writer);
                    }
                }
            }

            foreach (Entry e in _entries)
            {
                writer.WriteStartObject();
                writer.WriteString("suite", e.Suite);
                writer.WriteString("name", e.Name);
                writer.WriteNumber("value", Math.Round(e.Value, 6));
                writer.WriteString("unit", e.Unit);
                if (e.Peer is null) { writer.WriteNull("peer"); } else { writer.WriteString("peer", e.Peer); }
                if (e.PeerValue is double pv) { writer.WriteNumber("peer_value", Math.Round(pv, 6)); } else { writer.WriteNull("peer_value"); }
                if (e.Ratio is double r && double.IsFinite(r)) { writer.WriteNumber("ratio", Math.Round(r, 4)); } else { writer.WriteNull("ratio"); }
                writer.WriteString("command", $"scripts/bench.sh {e.Suite}");
                writer.WriteString("date", date.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
                writer.WriteString("machine", machine);
                if (e.Note is not null) { writer.WriteString("note", e.Note); }
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
