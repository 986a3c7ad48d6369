using System.Globalization;

namespace CortexEdge.Agent.Policy;

/// <summary>
/// A recorded history of the policy's inputs (battery, link, backlog per priority over time), as
/// CSV, so an operator can play it through a configuration before deploying it. Columns:
/// <c>second,battery_percent,charging,link,metered,rtt_ms,high_ops,high_bytes,high_oldest_s,normal_ops,normal_bytes,normal_oldest_s,low_ops,low_bytes,low_oldest_s,quota_percent</c>.
/// <c>second</c> counts from the start of the recording and must grow; an empty
/// <c>battery_percent</c> means no battery; <c>charging</c> is charging, discharging, full or
/// unknown; <c>link</c> is none, ethernet, wifi or cellular; <c>metered</c> is 0 or 1; empty
/// <c>rtt_ms</c> means unknown; per priority the unsent operations, their bytes and the age in
/// seconds of the oldest (empty when none waits). Lines starting with '#' are comments.
/// </summary>
public static class PolicyHistory
{
    /// <summary>The header line a history file starts with.</summary>
    public const string Header = "second,battery_percent,charging,link,metered,rtt_ms,high_ops,high_bytes,high_oldest_s,normal_ops,normal_bytes,normal_oldest_s,low_ops,low_bytes,low_oldest_s,quota_percent";

    private const int ColumnCount = 16;

    /// <summary>Parses a history; every row becomes the inputs at its offset from the start.</summary>
    /// <exception cref="FormatException">A line is malformed; the message names the line and column.</exception>
    public static IReadOnlyList<(TimeSpan At, SyncPolicyInputs Inputs)> Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var rows = new List<(TimeSpan, SyncPolicyInputs)>();
        int lineNumber = 0;
        bool headerSeen = false;
        long lastSecond = long.MinValue;
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
            if (f.Length != ColumnCount)
            {
                throw new FormatException($"line {lineNumber}: {f.Length} columns, expected {ColumnCount}");
            }

            long second = Int(f[0], lineNumber, "second");
            if (second <= lastSecond)
            {
                throw new FormatException($"line {lineNumber}: second {second} does not follow {lastSecond}");
            }

            lastSecond = second;
            int? battery = f[1].Length == 0 ? null : (int)Int(f[1], lineNumber, "battery_percent");
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
            var priorities = new BacklogPriorityStats[3];
            foreach (SyncPriority priority in (ReadOnlySpan<SyncPriority>)[SyncPriority.High, SyncPriority.Normal, SyncPriority.Low])
            {
                int column = 6 + (3 * (int)priority);
                string name = priority.ToString().ToLowerInvariant();
                long ops = Int(f[column], lineNumber, name + "_ops");
                long bytes = Int(f[column + 1], lineNumber, name + "_bytes");
                TimeSpan? oldest = f[column + 2].Length == 0 ? null : TimeSpan.FromSeconds(Int(f[column + 2], lineNumber, name + "_oldest_s"));
                if ((ops > 0) != oldest.HasValue)
                {
                    throw new FormatException($"line {lineNumber}: {name}_oldest_s must be given exactly when {name}_ops is above 0");
                }

                priorities[(int)priority] = new BacklogPriorityStats(priority, ops, bytes, oldest);
            }

            long quota = Int(f[15], lineNumber, "quota_percent");
            var batteryReading = battery is null
                ? BatteryReading.None
                : new BatteryReading(true, battery, charge, charge == BatteryChargeState.Discharging ? ExternalPowerState.Offline : ExternalPowerState.Online, ["history"], []);
            NetworkInterfaceReading? link = kind is { } k ? new NetworkInterfaceReading(k.ToString().ToLowerInvariant() + "0", k, true, metered, true, null) : null;
            var network = new NetworkReading(link is null ? [] : [link], link, rtt, []);
            var backlog = new BacklogSnapshot(priorities, quota, 100);
            rows.Add((TimeSpan.FromSeconds(second), new SyncPolicyInputs(batteryReading, network, backlog)));
        }

        if (!headerSeen)
        {
            throw new FormatException($"the history is empty: it must start with '{Header}'");
        }

        return rows;
    }

    /// <summary>
    /// Plays a history through a fresh engine and returns every decision that changed (another
    /// action or rule) or started a burst, in order. Between two rows the engine is asked again
    /// whenever its <see cref="SyncDecision.NextDecisionAt"/> comes first, with the row's inputs
    /// aged by the time passed; a burst empties the priorities it carries until the next row
    /// (which brings the recorded backlog again). The same history and options always give the
    /// same sequence.
    /// </summary>
    public static IReadOnlyList<(TimeSpan At, SyncDecision Decision)> Replay(IReadOnlyList<(TimeSpan At, SyncPolicyInputs Inputs)> history, SyncPolicyOptions options, DateTimeOffset start)
    {
        ArgumentNullException.ThrowIfNull(history);
        var engine = new SyncPolicyEngine(options);
        var changes = new List<(TimeSpan, SyncDecision)>();
        SyncDecision? last = null;
        for (int i = 0; i < history.Count; i++)
        {
            (TimeSpan rowAt, SyncPolicyInputs rowInputs) = history[i];
            TimeSpan? nextRow = i + 1 < history.Count ? history[i + 1].At : null;
            SyncPolicyInputs inputs = rowInputs;
            TimeSpan at = rowAt;
            // Each pass either bursts (and the backlog it carries empties) or moves time forward, so this ends.
            while (true)
            {
                SyncDecision decision = engine.Decide(Aged(inputs, at - rowAt), start + at);
                if (decision.BurstDue || !decision.IsSameDecisionAs(last))
                {
                    changes.Add((at, decision));
                }

                last = decision;
                if (decision.BurstDue)
                {
                    inputs = Sent(inputs, decision);
                    continue;
                }

                if (decision.NextDecisionAt is not DateTimeOffset next || nextRow is null || next - start >= nextRow || next - start <= at)
                {
                    break;
                }

                at = next - start;
            }
        }

        return changes;
    }

    private static SyncPolicyInputs Aged(SyncPolicyInputs inputs, TimeSpan elapsed)
    {
        if (elapsed <= TimeSpan.Zero)
        {
            return inputs;
        }

        return MapBacklog(inputs, stats => stats with { OldestUnsentAge = stats.OldestUnsentAge + elapsed });
    }

    private static SyncPolicyInputs Sent(SyncPolicyInputs inputs, SyncDecision decision) =>
        MapBacklog(inputs, stats => decision.Allows(stats.Priority) ? new BacklogPriorityStats(stats.Priority, 0, 0, null) : stats);

    /// <summary>The inputs with every priority's backlog stats passed through <paramref name="map"/>, in order.</summary>
    private static SyncPolicyInputs MapBacklog(SyncPolicyInputs inputs, Func<BacklogPriorityStats, BacklogPriorityStats> map)
    {
        var mapped = new BacklogPriorityStats[inputs.Backlog.Priorities.Count];
        for (int i = 0; i < mapped.Length; i++)
        {
            mapped[i] = map(inputs.Backlog.Priorities[i]);
        }

        return inputs with { Backlog = inputs.Backlog with { Priorities = mapped } };
    }

    private static long Int(string text, int line, string column) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) && value >= 0 && value <= int.MaxValue
            ? value
            : throw new FormatException($"line {line}: {column} '{text}' is not a whole number from 0 to {int.MaxValue}");
}
