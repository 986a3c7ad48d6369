using System.CommandLine;
using CortexEdge.Agent.Cli;
using CortexEdge.Core.Platform;

namespace CortexEdge.Agent.Tests.Cli;

public sealed class EdgeCommandLineTests
{
    public EdgeCommandLineTests() => NativeLibraryResolver.Initialize();

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        int exitCode = EdgeCommandLine.Create().Parse(args).Invoke(configuration);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void Info_PrintsLinkedSqliteAndLz4Versions()
    {
        var (exitCode, output, _) = Run("info");
        Assert.Equal(0, exitCode);
        Assert.Matches(@"(?m)^sqlite +3\.\d+\.\d+", output);
        Assert.Matches(@"(?m)^lz4 +1\d{4}", output);
    }

    [Fact]
    public void Help_ListsCommands()
    {
        var (exitCode, output, _) = Run("--help");
        Assert.Equal(0, exitCode);
        Assert.Contains("Usage:", output);
        Assert.Contains("info", output);
    }

    [Fact]
    public void UnknownCommand_FailsWithNonZeroExitAndNamesIt()
    {
        var (exitCode, _, error) = Run("no-such-command");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("no-such-command", error);
    }
}
