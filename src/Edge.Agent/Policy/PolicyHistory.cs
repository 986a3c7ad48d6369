using System.Globalization;

namespace CortexEdge.Agent.Policy;

/// <summary>
/// A recorded history of the policy's inputs (battery, link, backlog over time), as CSV, so an
/// operator can play it through a configuration before deploying it. Columns:
/// <c>minute,battery_percent,charging,link,metered,rtt_ms,backlog_ops,backlog_bytes,oldest_unsent_minutes,quota_percent</c>.
/// An empty <c>battery_percent</c> means no battery; <c>charging</c> is charging, discharging,
/// full or unknown; <c>link</c> is none, ethernet, wifi or cellular; <c>metered</c> is 0 or 1;
/// empty <c>rtt_ms</c> and <c>oldest_unsent_minutes</c> mean unknown / nothing unsent.
/// Lines starting with '#' are comments.
/// </summary>
public static class PolicyHistory
{
    /// <summary>The header line a history file starts with.</summary>
    public const string Header = "minute,battery_percent,charging,link,metered,rtt_ms,backlog_ops,backlog_bytes,oldest_unsent_minutes,quota_percent";

    /// <summary>Parses a history; every row becomes the inputs at its minute.</summary>
    /// <exception cref="FormatException">A line is malformed; the message names the line and column.</exception>
    public static IReadOnlyList<(int Minute, SyncPolicyInputs Inputs)> Parse(TextReader reader)
    {
        var rows = new List<(int, SyncPolicyInputs)>();
        int lineNumber = 0;
        bool headerSeen = false;
        int lastMinute = int.MinValue;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (!headerSeen)
            {
                if (line.Trim() != Header)
                {
                    throw new FormatException($"line {lineNumber}: expected the header '{Header}'");
                }

                headerSeen = true;
                continue;
            }

            string[] f = line.Split(',');
            if (f.Length != 10)
            {
                throw new FormatException($"line {lineNumber}: {f.Length} columns, expected 10");
            }

            int minute = Int(f[0], lineNumber, "minute");
            if (minute <= lastMinute)
            {
                throw new FormatException($"line {lineNumber}: minute {minute} does not follow {lastMinute}");
            }

            lastMinute = minute;
            int? battery = f[1].Length == 0 ? null : Int(f[1], lineNumber, "battery_percent");
            BatteryChargeState charge = f[2] switch
            {
                "charging" => BatteryChargeState.Charging,
                "discharging" => BatteryChargeState.Discharging,
                "full" => BatteryChargeState.Full,
                "unknown" or "" => BatteryChargeState.Unknown,
                _ => throw new FormatException($"line {lineNumber}: charging '{f[2]}' is not charging, discharging, full or unknown"),
            };
            NetworkInterfaceKind? kind = f[3] switch
            {
                "none" => null,
                "ethernet" => NetworkInterfaceKind.Ethernet,
                "wifi" => NetworkInterfaceKind.WiFi,
                "cellular" => NetworkInterfaceKind.Cellular,
                _ => throw new FormatException($"line {lineNumber}: link '{f[3]}' is not none, ethernet, wifi or cellular"),
            };
            bool metered = f[4] switch
            {
                "1" => true,
                "0" => false,
                _ => throw new FormatException($"line {lineNumber}: metered must be 0 or 1"),
            };
            TimeSpan? rtt = f[5].Length == 0 ? null : TimeSpan.FromMilliseconds(Int(f[5], lineNumber, "rtt_ms"));
            long ops = Int(f[6], lineNumber, "backlog_ops");
            long bytes = Int(f[7], lineNumber, "backlog_bytes");
            TimeSpan? oldest = f[8].Length == 0 ? null : TimeSpan.FromMinutes(Int(f[8], lineNumber, "oldest_unsent_minutes"));
            int quota = Int(f[9], lineNumber, "quota_percent");

            var batteryReading = battery is null
                ? BatteryReading.None
                : new BatteryReading(true, battery, charge, charge == BatteryChargeState.Discharging ? ExternalPowerState.Offline : ExternalPowerState.Online, ["history"], []);
            NetworkInterfaceReading? link = kind is { } k ? new NetworkInterfaceReading(k.ToString().ToLowerInvariant() + "0", k, true, metered, true, null) : null;
            var network = new NetworkReading(link is null ? [] : [link], link, rtt, []);
            var backlog = new BacklogSnapshot([new BacklogPriorityStats(SyncPriority.Normal, ops, bytes, oldest)], quota, 100);
            rows.Add((minute, new SyncPolicyInputs(batteryReading, network, backlog)));
        }

        if (!headerSeen)
        {
            throw new FormatException($"the history is empty: it must start with '{Header}'");
        }

        return rows;
    }

    /// <summary>Plays a history through a fresh engine; returns the decisions that changed, in order.</summary>
    public static IReadOnlyList<(int Minute, SyncDecision Decision)> Replay(IReadOnlyList<(int Minute, SyncPolicyInputs Inputs)> history, SyncPolicyOptions options, DateTimeOffset start)
    {
        var engine = new SyncPolicyEngine(options);
        var changes = new List<(int, SyncDecision)>();
        SyncDecision? last = null;
        foreach (var (minute, inputs) in history)
        {
            SyncDecision decision = engine.Decide(inputs, start.AddMinutes(minute));
            if (!decision.IsSameDecisionAs(last))
            {
                changes.Add((minute, decision));
            }

            last = decision;
        }

        return changes;
    }

    private static int Int(string text, int line, string column) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 0
            ? value
            : throw new FormatException($"line {line}: {column} '{text}' is not a whole number >= 0");
}
