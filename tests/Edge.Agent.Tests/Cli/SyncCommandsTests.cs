using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using CortexEdge.Agent.Cli;
using CortexEdge.Core.Platform;

namespace CortexEdge.Agent.Tests.Cli;

/// <summary>The argument and refusal paths of `cortex-edge sync|leader`; a full round over mosquitto is tests/e2e/sync.sh.</summary>
public sealed class SyncCommandsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ce-cli-sync-" + Guid.NewGuid().ToString("N"));

    public SyncCommandsTests() => NativeLibraryResolver.Initialize();

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
        int exitCode = EdgeCommandLine.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    // A loopback port nothing listens on: the connection is refused at once.
    private static string ClosedBroker()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return "127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("localhost:0")]
    [InlineData("localhost:99999")]
    [InlineData(":1883")]
    public void Sync_BadBroker_Exits2NamingIt(string broker)
    {
        var result = Run("sync", "--db", _directory, "--broker", broker, "--fleet", "f", "--node", "n1");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(broker, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Sync_UnderAnotherNodeName_IsRefusedWithExit4_EvenWhenTheBrokerIsDown()
    {
        // The first attempt binds the name although the broker cannot be reached.
        var first = Run("sync", "--db", _directory, "--broker", ClosedBroker(), "--fleet", "f", "--node", "gw-1", "--timeout", "5");
        Assert.True(first.ExitCode is 5 or 6, $"exit {first.ExitCode}: {first.Error}");

        var second = Run("sync", "--db", _directory, "--broker", ClosedBroker(), "--fleet", "f", "--node", "gw-2", "--timeout", "5");
        Assert.Equal(4, second.ExitCode);
        Assert.Contains("NodeIdentityMismatch", second.Error, StringComparison.Ordinal);
        Assert.Contains("gw-1", second.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Leader_BrokerDown_Exits5()
    {
        var result = Run("leader", "--db", _directory, "--broker", ClosedBroker(), "--fleet", "f");
        Assert.Equal(5, result.ExitCode);
        Assert.Contains("broker", result.Error, StringComparison.Ordinal);
    }
}
