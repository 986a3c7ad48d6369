using System.Diagnostics;
using System.Text;
using CortexEdge.Agent.Cli;
using CortexEdge.Agent.Tests.Infrastructure;
using CortexEdge.Core;
using CortexEdge.Core.Platform;

namespace CortexEdge.Agent.Tests.Cli;

/// <summary>
/// Crash test: the built cortex-edge (run by `dotnet cortex-edge.dll`) writes documents in Always
/// and in Group mode and prints each key once acknowledged; it is killed with SIGKILL at random
/// moments; after reopening, every acknowledged key is present with its value.
/// Cycles from CE_CRASH_CYCLES (default 30), seed from CE_TEST_SEED (printed on failure).
/// </summary>
public sealed class WriteLoadCrashTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ce-crash-" + Guid.NewGuid().ToString("N"));

    public WriteLoadCrashTests() => NativeLibraryResolver.Initialize();

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task SigkillAtRandomMoments_EveryAcknowledgedKeySurvivesWithItsValue()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int s) ? s : Random.Shared.Next();
        int cycles = int.TryParse(Environment.GetEnvironmentVariable("CE_CRASH_CYCLES"), out int c) && c > 0 ? c : 30;
        var random = new Random(seed);
        string agent = Path.Combine(AppContext.BaseDirectory, "cortex-edge.dll");
        Assert.True(File.Exists(agent), $"{agent} is missing");
        long totalAcknowledged = 0;
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            string durability = cycle % 2 == 0 ? "always" : "group";
            string prefix = $"c{cycle}-";
            string context = $"seed {seed}, cycle {cycle} ({durability})";
            List<string> acknowledged = await RunAndKill(agent, durability, prefix, random.Next(0, 400), context);
            totalAcknowledged += acknowledged.Count;

            await using EdgeDatabase database = EdgeDatabase.Open(_directory);
            foreach (string key in acknowledged)
            {
                int index = int.Parse(key.AsSpan(prefix.Length), System.Globalization.CultureInfo.InvariantCulture);
                string? json = database.Get(WriteLoadCommand.Collection, key)?.ToJsonString();
                Assert.True(json == WriteLoadCommand.ValueJson(prefix, index), $"{context}: acknowledged key {key} reads back as {json ?? "absent"}");
            }
        }

        Assert.True(totalAcknowledged >= cycles, $"seed {seed}: only {totalAcknowledged} writes acknowledged in {cycles} cycles");
    }

    [Fact]
    public async Task SecondOpenerInAnotherProcess_GetsDatabaseLockedNamingTheHoldersPid()
    {
        string agent = Path.Combine(AppContext.BaseDirectory, "cortex-edge.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { agent, "write-load", "--db", _directory, "--durability", "none", "--count", "100000000", "--writers", "1" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        try
        {
            string? first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.StartsWith("ack ", first);
            var error = Assert.Throws<EdgeException>(() => EdgeDatabase.Open(_directory));
            Assert.Equal(EdgeErrorCode.DatabaseLocked, error.Code);
            Assert.Contains($"process {process.Id}", error.Message);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        await using EdgeDatabase reopened = EdgeDatabase.Open(_directory); // the lock died with the process
        Assert.NotNull(reopened.Get(WriteLoadCommand.Collection, "k0"));
    }

    private Task<List<string>> RunAndKill(string agent, string durability, string prefix, int killAfterMilliseconds, string context) =>
        AckingWriter.RunAndKillAsync(
            [agent, "write-load", "--db", _directory, "--durability", durability, "--count", "10000000", "--writers", "4", "--prefix", prefix],
            killAfterMilliseconds,
            context);
}
