using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CortexEdge.Sync.Fleet;

/// <summary>
/// The rows <c>cortex-edge fleet status</c> prints: every node seen by presence or refused by the
/// authorizer, with presence, lag and refused-frame counts; rendered as an aligned text table or
/// as JSON (source-generated). Pure: give it the snapshots and the time.
/// </summary>
public static class FleetStatus
{
    /// <summary>Builds the rows from the presence table and the authorizer's counts at <paramref name="now"/>, ordered by node id.</summary>
    public static IReadOnlyList<FleetStatusRow> Build(IReadOnlyList<NodePresence> presence, IReadOnlyDictionary<string, NodeRefusalCounts> refusals, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(presence);
        ArgumentNullException.ThrowIfNull(refusals);
        var rows = new SortedDictionary<string, FleetStatusRow>(StringComparer.Ordinal);
        foreach (NodePresence node in presence)
        {
            PresenceReport report = node.LastReport;
            rows[node.Node] = new FleetStatusRow
            {
                Node = node.Node,
                Online = node.Online,
                LastSeen = node.LastSeen,
                Backlog = report.Backlog,
                LastSync = report.LastSync,
                LagSeconds = report.LastSync is DateTimeOffset lastSync ? Math.Max(0, (now - lastSync).TotalSeconds) : null,
                SchemaVersion = report.SchemaVersion,
                HeldBack = report.HeldBack is { Count: > 0 } ? report.HeldBack : null,
                BatteryPercent = report.BatteryPercent,
                Refused = refusals.TryGetValue(node.Node, out NodeRefusalCounts? counts) ? counts.Total : 0,
                Refusals = counts is { Total: > 0 } ? counts : null,
            };
        }

        foreach ((string node, NodeRefusalCounts counts) in refusals)
        {
            if (!rows.ContainsKey(node))
            {
                rows[node] = new FleetStatusRow { Node = node, Refused = counts.Total, Refusals = counts.Total > 0 ? counts : null };
            }
        }

        return rows.Values.ToArray();
    }

    /// <summary>The rows as a JSON array.</summary>
    public static string RenderJson(IReadOnlyList<FleetStatusRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return JsonSerializer.Serialize(rows.ToArray(), FleetJsonContext.Default.FleetStatusRowArray);
    }

    /// <summary>The rows as an aligned text table with a header line; "-" where a value is unknown.</summary>
    public static string RenderTable(IReadOnlyList<FleetStatusRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        string[] header = ["NODE", "STATE", "BACKLOG", "LAST SYNC", "LAG", "SCHEMA", "BATTERY", "REFUSED", "HELD BACK"];
        var cells = new List<string[]> { header };
        foreach (FleetStatusRow row in rows)
        {
            cells.Add(
            [
                row.Node,
                row.LastSeen is null ? "unknown" : row.Online ? "online" : "offline",
                row.Backlog.ToString(CultureInfo.InvariantCulture),
                row.LastSync?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-",
                row.LagSeconds is double lag ? FormatDuration(lag) : "-",
                row.SchemaVersion.ToString(CultureInfo.InvariantCulture),
                row.BatteryPercent is int battery ? battery.ToString(CultureInfo.InvariantCulture) + "%" : "-",
                row.Refused.ToString(CultureInfo.InvariantCulture),
                row.HeldBack is { Count: > 0 } held ? string.Join(',', held) : "-",
            ]);
        }

        var widths = new int[header.Length];
        foreach (string[] line in cells)
        {
            for (int column = 0; column < line.Length; column++)
            {
                widths[column] = Math.Max(widths[column], line[column].Length);
            }
        }

        var text = new StringBuilder();
        foreach (string[] line in cells)
        {
            for (int column = 0; column < line.Length; column++)
            {
                text.Append(column == line.Length - 1 ? line[column] : line[column].PadRight(widths[column] + 2));
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static string FormatDuration(double seconds) => seconds switch
    {
        < 60 => ((int)seconds).ToString(CultureInfo.InvariantCulture) + "s",
        < 3600 => ((int)(seconds / 60)).ToString(CultureInfo.InvariantCulture) + "m",
        < 86400 => ((int)(seconds / 3600)).ToString(CultureInfo.InvariantCulture) + "h",
        _ => ((int)(seconds / 86400)).ToString(CultureInfo.InvariantCulture) + "d",
    };
}
