using System.CommandLine;
using CortexEdge.Agent.Cli;
using CortexEdge.Agent.Policy;

namespace CortexEdge.Agent.Tests.Cli;

public sealed class PolicyCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ce-policy-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = EdgeCommandLine.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    private string History(string rows)
    {
        string path = Path.Combine(_directory, "history.csv");
        File.WriteAllText(path, PolicyHistory.Header + "\n" + rows);
        return path;
    }

    [Fact]
    public void Replay_PrintsDecisionsAndBursts_WithTheBoundsOfTheConfig()
    {
        // Metered modem, readings 5 min old: priority only; a burst when they reach their bound.
        string history = History("0,80,discharging,cellular,1,300,0,0,,100,10000,300,0,0,,1\n7200,80,discharging,cellular,1,300,0,0,,0,0,,0,0,,1\n");
        var (exitCode, output, error) = Run("policy", "replay", history);
        Assert.True(exitCode == 0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("00:00:00  PriorityOnly", lines[0]);
        Assert.Matches(@"^00:54:50  SyncNow\s+FreshnessBound\s+burst ", lines[1]); // 1 h - 10 s lead - 300 s old

        var (_, example, _) = Run("config", "example");
        string config = Path.Combine(_directory, "agent.json");
        File.WriteAllText(config, example.Replace("\"normal\": 3600", "\"normal\": 1200", StringComparison.Ordinal).Replace("\"burstLeadSeconds\": 10", "\"burstLeadSeconds\": 0", StringComparison.Ordinal));
        var (configuredExit, configured, configuredError) = Run("policy", "replay", history, "--config", config);
        Assert.True(configuredExit == 0, configuredError);
        Assert.Matches(@"00:15:00  SyncNow\s+FreshnessBound\s+burst ", configured);
    }

    [Fact]
    public void Replay_MalformedHistory_Exit2_NamesTheLine()
    {
        string history = History("0,80,discharging,cellular,1,300,0,0,,100,10000,,0,0,,1\n");
        var (exitCode, _, error) = Run("policy", "replay", history);
        Assert.Equal(2, exitCode);
        Assert.Contains("line 2", error);
        Assert.Contains("normal_oldest_s", error);
    }
}
