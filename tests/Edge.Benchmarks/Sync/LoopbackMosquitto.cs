using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CortexEdge.Benchmarks.Sync;

/// <summary>A mosquitto on a free loopback port with a config written here, killed on dispose.</summary>
internal sealed class LoopbackMosquitto : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private LoopbackMosquitto(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public static async Task<LoopbackMosquitto?> TryStartAsync()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        string directory = Path.Combine(Path.GetTempPath(), $"ce-bench-mosquitto-{Environment.ProcessId}-{port}");
        Directory.CreateDirectory(directory);
        string config = Path.Combine(directory, "mosquitto.conf");
        await File.WriteAllTextAsync(config, $"listener {port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\nmax_queued_messages 0\n");
        Process process;
        try
        {
            process = Process.Start(new ProcessStartInfo("mosquitto", ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }

        for (int attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return new LoopbackMosquitto(process, directory, port);
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        process.Kill();
        return null;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
