using System.CommandLine;
using CortexEdge.Agent.Cli;

namespace CortexEdge.Agent.Tests.Cli;

public sealed class ConfigCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ce-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = EdgeCommandLine.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void Example_ThenCheck_IsValid()
    {
        var (exitCode, example, _) = Run("config", "example");
        Assert.Equal(0, exitCode);
        string path = Path.Combine(_directory, "agent.json");
        File.WriteAllText(path, example);
        var (checkExit, output, _) = Run("config", "check", path);
        Assert.Equal(0, checkExit);
        Assert.Contains("valid", output);
    }

    [Fact]
    public void Check_BadFile_ExitsNonZeroNamingEachField()
    {
        string path = Path.Combine(_directory, "bad.json");
        File.WriteAllText(path, """{ "role": "leader", "durability": { "mode": "fast" }, "quotas": { "walBytes": 1 } }""");
        var (exitCode, _, error) = Run("config", "check", path);
        Assert.Equal(1, exitCode);
        Assert.Contains("$.durability.mode", error);
        Assert.Contains("$.quotas.walBytes", error);
    }

    [Fact]
    public void Check_MissingFile_SaysSo()
    {
        var (exitCode, _, error) = Run("config", "check", Path.Combine(_directory, "absent.json"));
        Assert.Equal(1, exitCode);
        Assert.Contains("cannot read", error);
    }
}
