using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Fleet;

/// <summary>
/// A real RabbitMQ node with its MQTT plugin (MQTT 3.1.1; the clusterable broker of the fleet
/// tests): its own directory, Erlang node name, cookie home and free ports, started with
/// rabbitmq-server and ready once the MQTT listener accepts connections. Killed (whole process
/// tree) on dispose. Starting takes 10-20 s, so tests share one through <see cref="RabbitMqFixture"/>.
/// </summary>
public sealed class RabbitMqBroker : IAsyncDisposable
{
    private const string ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private readonly Process _process;
    private readonly string _directory;

    private readonly int _epmdPort;

    private RabbitMqBroker(Process process, string directory, int mqttPort, int epmdPort)
    {
        _process = process;
        _directory = directory;
        MqttPort = mqttPort;
        _epmdPort = epmdPort;
    }

    /// <summary>Loopback address of the listeners.</summary>
    public string Host => "127.0.0.1";

    /// <summary>The MQTT listener port.</summary>
    public int MqttPort { get; }

    /// <summary>Starts a node and waits (up to 90 s) until its MQTT listener accepts connections.</summary>
    public static async Task<RabbitMqBroker> StartAsync()
    {
        string directory = Path.Combine(Path.GetTempPath(), "ce-rabbitmq-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(directory);
        int mqttPort = MosquittoBroker.GetFreePort();
        int amqpPort = MosquittoBroker.GetFreePort();
        int distributionPort = MosquittoBroker.GetFreePort();
        int epmdPort = MosquittoBroker.GetFreePort();
        File.WriteAllLines(Path.Combine(directory, "rabbitmq.conf"),
        [
            $"listeners.tcp.default = 127.0.0.1:{amqpPort}",
            $"mqtt.listeners.tcp.default = 127.0.0.1:{mqttPort}",
            "mqtt.allow_anonymous = true",
            "loopback_users = none",
        ]);
        File.WriteAllText(Path.Combine(directory, "enabled_plugins"), "[rabbitmq_mqtt].\n");
        var start = new ProcessStartInfo(ServerScript) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["HOME"] = directory; // the Erlang cookie lives here, not in the user's home
        start.Environment["ERL_EPMD_PORT"] = epmdPort.ToString(CultureInfo.InvariantCulture); // a private epmd, stopped on dispose
        start.Environment["RABBITMQ_NODENAME"] = "ce" + Guid.NewGuid().ToString("N")[..8] + "@localhost";
        start.Environment["RABBITMQ_DIST_PORT"] = distributionPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(directory, "mnesia");
        start.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(directory, "log");
        start.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(directory, "rabbitmq.conf");
        start.Environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(directory, "advanced.config");
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(directory, "enabled_plugins");
        start.Environment["RABBITMQ_PID_FILE"] = Path.Combine(directory, "pid");
        Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start rabbitmq-server.");
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var broker = new RabbitMqBroker(process, directory, mqttPort, epmdPort);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (process.HasExited)
            {
                await broker.DisposeAsync();
                throw new InvalidOperationException($"rabbitmq-server exited with {process.ExitCode}:\n{output}");
            }

            using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(broker.Host, mqttPort);
                return broker;
            }
            catch (SocketException)
            {
                await Task.Delay(250);
            }
        }

        await broker.DisposeAsync();
        throw new TimeoutException($"RabbitMQ's MQTT listener did not open within 90 s:\n{output}");
    }

    /// <summary>Kills the node's process tree and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        StopEpmd();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException exception)
        {
            Console.Error.WriteLine($"RabbitMqBroker: could not delete {_directory}: {exception.Message}");
        }
    }

    /// <summary>Stops the epmd daemon the node started on its private port (it outlives the node otherwise).</summary>
    private void StopEpmd()
    {
        var start = new ProcessStartInfo("epmd") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-port");
        start.ArgumentList.Add(_epmdPort.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("-kill");
        using Process? epmd = Process.Start(start);
        epmd?.WaitForExit(5_000);
    }
}

/// <summary>One RabbitMQ node shared by the tests of the rabbitmq collection.</summary>
public sealed class RabbitMqFixture : IAsyncLifetime
{
    public RabbitMqBroker Broker { get; private set; } = null!;

    public async Task InitializeAsync() => Broker = await RabbitMqBroker.StartAsync();

    public async Task DisposeAsync() => await Broker.DisposeAsync();
}

/// <summary>Every RabbitMQ test class shares one node (a start costs 10-20 s).</summary>
[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqFixture>
{
    public const string Name = "rabbitmq";
}
