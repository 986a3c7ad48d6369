using System.Globalization;

namespace CortexEdge.Agent.Policy;

/// <summary>
/// Parses <c>/proc/net/wireless</c>: two header lines, then one line per wireless interface,
/// <c>name: status link. level. noise. nwid crypt frag retry misc beacon</c>. A trailing '.' marks
/// a value updated since the last read. Level is in dBm; drivers that report it as an unsigned
/// byte (a positive value) are converted (<c>level - 256</c>). A malformed line is skipped with a
/// problem naming its line number; parsing never throws. Pure and thread safe.
/// </summary>
public static class WirelessStatsTable
{
    /// <summary>Parsed link quality and signal of one interface.</summary>
    /// <param name="LinkQuality">The driver's link quality (scale is driver specific, commonly 0-70).</param>
    /// <param name="SignalDbm">Signal level in dBm.</param>
    public readonly record struct Entry(double LinkQuality, double SignalDbm);

    /// <summary>Parses the file's text. <paramref name="source"/> names the file in problems.</summary>
    public static Dictionary<string, Entry> Parse(string text, List<string> problems, string source = "/proc/net/wireless")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(problems);
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        int lineNumber = 0;
        Span<Range> fields = stackalloc Range[5];
        foreach (ReadOnlySpan<char> rawLine in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            if (lineNumber <= 2 || rawLine.IsWhiteSpace())
                continue;
            int colon = rawLine.IndexOf(':');
            if (colon <= 0)
            {
                problems.Add($"{source} line {lineNumber}: no 'interface:' prefix");
                continue;
            }
            string name = rawLine[..colon].Trim().ToString();
            if (name.Length == 0 || name.AsSpan().ContainsAny(" \t"))
            {
                problems.Add($"{source} line {lineNumber}: bad interface name '{SysfsAttribute.Shorten(name)}'");
                continue;
            }
            ReadOnlySpan<char> rest = rawLine[(colon + 1)..];
            int fieldCount = rest.SplitAny(fields, " \t", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            // Fields: status, link, level, noise, (the rest); Split puts the remainder in the 5th.
            if (fieldCount < 4)
            {
                problems.Add($"{source} line {lineNumber}: {name}: expected status, link, level and noise, found {fieldCount} fields");
                continue;
            }
            if (!TryParseValue(rest[fields[1]], out double link) || !TryParseValue(rest[fields[2]], out double level))
            {
                problems.Add($"{source} line {lineNumber}: {name}: link or level is not a number");
                continue;
            }
            if (level > 0 && level < 256)
                level -= 256;
            if (level is < -200 or > 0)
            {
                problems.Add($"{source} line {lineNumber}: {name}: signal level {level} dBm is out of range");
                continue;
            }
            entries[name] = new Entry(link, level);
        }
        return entries;
    }

    private static bool TryParseValue(ReadOnlySpan<char> field, out double value)
    {
        if (field.Length > 0 && field[^1] == '.')
            field = field[..^1];
        return double.TryParse(field, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value)
            && double.IsFinite(value);
    }
}
