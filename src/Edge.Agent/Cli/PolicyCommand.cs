using System.CommandLine;
using CortexEdge.Agent.Configuration;
using CortexEdge.Agent.Policy;

namespace CortexEdge.Agent.Cli;

/// <summary><c>cortex-edge policy replay FILE [--config agent.json]</c>: test a sync policy before deploying it.</summary>
internal static class PolicyCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = $"Recorded history (CSV: {PolicyHistory.Header})." };
        var config = new Option<FileInfo?>("--config") { Description = "Take the thresholds from this agent configuration (default: built-in defaults)." };
        var replay = new Command("replay", "Play a recorded battery/network/backlog history through the sync policy and print each decision with its reason.") { file, config };
        replay.SetAction(parseResult =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            SyncPolicyOptions options = new();
            if (parseResult.GetValue(config) is { } configFile)
            {
                var (agentConfig, errors) = AgentConfigReader.ReadFile(configFile.FullName);
                if (errors.Count > 0)
                {
                    foreach (ConfigError e in errors)
                    {
                        error.WriteLine($"{configFile.FullName}: {e}");
                    }

                    return 2;
                }

                options = ToOptions(agentConfig!.SyncPolicy);
            }

            IReadOnlyList<(TimeSpan At, SyncPolicyInputs Inputs)> history;
            try
            {
                using StreamReader reader = File.OpenText(parseResult.GetValue(file)!.FullName);
                history = PolicyHistory.Parse(reader);
            }
            catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: {ex.Message}");
                return 2;
            }

            var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
            foreach (var (at, decision) in PolicyHistory.Replay(history, options, start))
            {
                output.WriteLine($"{(int)at.TotalHours:00}:{at.Minutes:00}:{at.Seconds:00}  {decision.Action,-12} {decision.Rule,-20} {(decision.BurstDue ? "burst" : "-"),-5} {decision.Reason}");
            }

            return 0;
        });
        var command = new Command("policy", "Sync policy tools.");
        command.Subcommands.Add(replay);
        return command;
    }

    /// <summary>The engine's options from the configuration's thresholds (the rest keep their defaults).</summary>
    internal static SyncPolicyOptions ToOptions(SyncPolicyConfig config) => new()
    {
        LowBatteryPercent = config.LowBatteryPercent,
        CriticalBatteryPercent = config.CriticalBatteryPercent,
        QuotaNearlyFullFraction = config.QuotaNearlyFullPercent / 100.0,
        CostlyLinkBacklogAgeMax = TimeSpan.FromMinutes(config.BacklogMaxAgeMinutes),
        FreshnessBoundHigh = TimeSpan.FromSeconds(config.FreshnessSeconds.High),
        FreshnessBoundNormal = TimeSpan.FromSeconds(config.FreshnessSeconds.Normal),
        FreshnessBoundLow = TimeSpan.FromSeconds(config.FreshnessSeconds.Low),
        BurstLeadTime = TimeSpan.FromSeconds(config.BurstLeadSeconds),
    };
}
