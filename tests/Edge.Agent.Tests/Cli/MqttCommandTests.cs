using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CortexEdge.Agent.Cli;

namespace CortexEdge.Agent.Tests.Cli;

/// <summary>`cortex-edge mqtt pub|sub` against a real mosquitto, checked with mosquitto_pub/mosquitto_sub.</summary>
public sealed class MqttCommandTests : IAsyncLifetime
{
    private Process _broker = null!;
    private string _directory = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = FreePort();
        _directory = Path.Combine(Path.GetTempPath(), "ce-cli-mosquitto-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_directory);
        string config = Path.Combine(_directory, "mosquitto.conf");
        var lines = new List<string> { $"listener {_port} 127.0.0.1", "allow_anonymous true", "log_dest none" };
        if (Environment.UserName == "root")
        {
            lines.Add("user root");
        }

        await File.WriteAllLinesAsync(config, lines);
        _broker = Process.Start(new ProcessStartInfo("mosquitto") { ArgumentList = { "-c", config }, UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true })!;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, _port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task DisposeAsync()
    {
        _broker.Kill();
        await _broker.WaitForExitAsync();
        _broker.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData("5", "2")]
    [InlineData("3.1.1", "1")]
    public void Pub_RetainedAtQos_ExitsZeroAndMosquittoSubReadsIt(string version, string qos)
    {
        string topic = "ce/cli/" + Guid.NewGuid().ToString("N");
        var (exitCode, _, error) = Run("mqtt", "pub", "--port", Port, "--topic", topic, "--qos", qos, "--message", "hello from cli", "--count", "3", "--retain", "--mqtt-version", version);
        Assert.True(exitCode == 0, error);
        string received = Tool("mosquitto_sub", "-h", "127.0.0.1", "-p", Port, "-t", topic, "-C", "1", "-W", "10");
        Assert.Equal("hello from cli", received.Trim());
    }

    [Fact]
    public void Sub_RetainedMessage_PrintsPayloadAndExitsAfterCount()
    {
        string topic = "ce/cli/" + Guid.NewGuid().ToString("N");
        Tool("mosquitto_pub", "-h", "127.0.0.1", "-p", Port, "-t", topic, "-m", "from mosquitto_pub", "-r", "-q", "1");
        var (exitCode, output, error) = Run("mqtt", "sub", "--port", Port, "--topic", topic, "--qos", "1", "--count", "1", "--timeout", "20");
        Assert.True(exitCode == 0, error);
        Assert.Equal("from mosquitto_pub", output.Trim());
    }

    [Fact]
    public void Sub_TimeoutBeforeCount_ExitsTwoWithMessage()
    {
        var (exitCode, _, error) = Run("mqtt", "sub", "--port", Port, "--topic", "ce/cli/empty/" + Guid.NewGuid().ToString("N"), "--count", "1", "--timeout", "1");
        Assert.Equal(2, exitCode);
        Assert.Contains("timed out", error);
    }

    [Fact]
    public void Pub_NoBroker_ExitsOneNamingTheEndpoint()
    {
        string port = FreePort().ToString(CultureInfo.InvariantCulture);
        var (exitCode, _, error) = Run("mqtt", "pub", "--port", port, "--topic", "t", "--message", "m");
        Assert.Equal(1, exitCode);
        Assert.Contains(port, error);
    }

    private string Port => _port.ToString(CultureInfo.InvariantCulture);

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = EdgeCommandLine.Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    private static string Tool(string fileName, params string[] args)
    {
        var start = new ProcessStartInfo(fileName) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{fileName} exited {process.ExitCode}: {stderr.Result}");
        return stdout;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
