using System.CommandLine;
using System.Globalization;
using CortexEdge.Agent.Cli;
using CortexEdge.Core.Platform;

namespace CortexEdge.Agent.Tests.Vectors;

public sealed class VectorCommandsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ce-cli-vec-" + Guid.NewGuid().ToString("N"));

    public VectorCommandsTests() => NativeLibraryResolver.Initialize();

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        int exitCode = EdgeCommandLine.Create().Parse(args).Invoke(configuration);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void UpsertThenSearch_PrintsIdAndDistancePerLine_NearestFirst()
    {
        Assert.Equal(0, Run("vec", "upsert", "--db", _directory, "faults", "bearing", "--vector", "1,0,0", "--metric", "l2", "--key", "sig/1").ExitCode);
        Assert.Equal(0, Run("vec", "upsert", "--db", _directory, "faults", "imbalance", "--vector", "0,1,0").ExitCode);
        Assert.Equal(0, Run("vec", "upsert", "--db", _directory, "faults", "misalignment", "--vector", "0,0,1").ExitCode);

        var search = Run("vec", "search", "--db", _directory, "faults", "--vector", "0.9,0.1,0", "--k", "2");
        Assert.True(search.ExitCode == 0, search.Error);
        string[] lines = search.Output.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        string[] first = lines[0].Split('\t');
        Assert.Equal("bearing", first[0]);
        Assert.Equal(0.02f, float.Parse(first[1], CultureInfo.InvariantCulture), 5);
        Assert.Equal("imbalance", lines[1].Split('\t')[0]);

        var stats = Run("vec", "stats", "--db", _directory, "faults");
        Assert.Equal(0, stats.ExitCode);
        Assert.Matches(@"(?m)^count +3$", stats.Output);
        Assert.Matches(@"(?m)^metric +L2$", stats.Output);
    }

    [Fact]
    public void BadInput_ExitsWithTypedCodes()
    {
        Assert.Equal(0, Run("vec", "create", "--db", _directory, "c", "--dimension", "3").ExitCode);
        var notNumber = Run("vec", "upsert", "--db", _directory, "c", "a", "--vector", "1,x,3");
        Assert.Equal(DatabaseCommands.ExitBadInput, notNumber.ExitCode);
        Assert.Contains("component 1", notNumber.Error);
        var wrongLength = Run("vec", "upsert", "--db", _directory, "c", "a", "--vector", "1,2");
        Assert.Equal(DatabaseCommands.ExitBadInput, wrongLength.ExitCode);
        Assert.Contains("dimension 3", wrongLength.Error);
        var missing = Run("vec", "search", "--db", _directory, "nope", "--vector", "1,2,3");
        Assert.Equal(DatabaseCommands.ExitNotFound, missing.ExitCode);
        Assert.Equal(DatabaseCommands.ExitBadInput, Run("vec", "search", "--db", _directory, "c", "--vector", "1,2,3", "--k", "0").ExitCode);
    }
}
