using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CortexEdge.Benchmarks.Mqtt;

/// <summary>A private mosquitto for the benchmark: free loopback port, own config, killed on dispose.</summary>
internal sealed class BenchmarkMosquitto : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private BenchmarkMosquitto(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public static async Task<BenchmarkMosquitto> StartAsync()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        string directory = Path.Combine(Path.GetTempPath(), "ce-bench-mosquitto-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        string config = Path.Combine(directory, "mosquitto.conf");
        var lines = new List<string> { $"listener {port} 127.0.0.1", "allow_anonymous true", "max_queued_messages 0", "log_dest none" };
        if (Environment.UserName == "root")
        {
            lines.Add("user root");
        }

        await File.WriteAllLinesAsync(config, lines);
        var start = new ProcessStartInfo("mosquitto") { ArgumentList = { "-c", config }, UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        Process process = Process.Start(start) ?? throw new InvalidOperationException("mosquitto did not start");
        var broker = new BenchmarkMosquitto(process, directory, port);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return broker;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
