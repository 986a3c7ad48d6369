using System.CommandLine;
using CortexEdge.Agent.Cli;

namespace CortexEdge.Agent.Tests.Cli;

[Collection("Console")]
public sealed class SeriesCommandsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ce-series-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Db => Path.Combine(_directory, "db");

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = EdgeCommandLine.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void AppendRangeSeries_RoundTrip()
    {
        Assert.Equal(0, Run("append", "t", "1000,1", "2000,3", "--db", Db).ExitCode);
        Assert.Equal(0, Run("append", "t", "5", "--ts", "61000", "--db", Db).ExitCode);
        var (exit, output, _) = Run("range", "t", "--db", Db);
        Assert.Equal(0, exit);
        Assert.Equal(["1000,1", "2000,3", "61000,5"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        (exit, output, _) = Run("range", "t", "--bucket", "1m", "--agg", "avg", "--db", Db);
        Assert.Equal(0, exit);
        Assert.Equal(["start,avg", "0,2", "60000,5"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        (exit, output, _) = Run("series", "--db", Db);
        Assert.Equal(0, exit);
        Assert.StartsWith("t,3,1000,61000,", output.Split('\n')[1]);
    }

    [Fact]
    public void Append_BadReading_ExitsTwoNamingIt()
    {
        var (exit, _, error) = Run("append", "t", "1000,x", "--db", Db);
        Assert.Equal(2, exit);
        Assert.Contains("1000,x", error);
        (exit, _, error) = Run("range", "t", "--bucket", "fast", "--db", Db);
        Assert.Equal(2, exit);
        Assert.Contains("--bucket", error);
    }

    [Fact]
    public void AppendStdin_StoresGoodLinesAndNamesRejectedOnes()
    {
        TextReader original = Console.In;
        try
        {
            Console.SetIn(new StringReader("1000,1\n2000,2\nnot a reading\n3000,3\n4000\n"));
            var (exit, _, error) = Run("append", "bulk", "--stdin", "--db", Db);
            Assert.Equal(2, exit);
            Assert.Contains("stored 3 readings; rejected 2 lines (line 3, 5", error);
        }
        finally
        {
            Console.SetIn(original);
        }

        Assert.Equal(3, Run("range", "bulk", "--db", Db).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Theory]
    [InlineData("90", 90)]
    [InlineData("10s", 10)]
    [InlineData("1m", 60)]
    [InlineData("2h", 7200)]
    [InlineData("1d", 86400)]
    public void TryParseDuration_Units(string text, double seconds)
    {
        Assert.True(SeriesCommands.TryParseDuration(text, out TimeSpan duration));
        Assert.Equal(seconds, duration.TotalSeconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-1m")]
    [InlineData("m")]
    public void TryParseDuration_Invalid(string text) => Assert.False(SeriesCommands.TryParseDuration(text, out _));
}
