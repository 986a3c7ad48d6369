using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace CortexEdge.Sync.Tests.Infrastructure;

/// <summary>What a test broker is configured with. Every option maps to a mosquitto.conf line.</summary>
public sealed class MosquittoBrokerOptions
{
    /// <summary>Users and passwords; when set, a password file is made with mosquitto_passwd and anonymous access is off.</summary>
    public IReadOnlyDictionary<string, string>? Users { get; init; }

    /// <summary>Allow clients without credentials (default: true unless <see cref="Users"/> is set).</summary>
    public bool? AllowAnonymous { get; init; }

    /// <summary>Lines of an ACL file (e.g. "user alice", "topic readwrite ce/#"); null for no ACL.</summary>
    public IReadOnlyList<string>? AclLines { get; init; }

    /// <summary>Serve TLS with these certificates instead of plain TCP.</summary>
    public MosquittoTlsMaterial? Tls { get; init; }

    /// <summary>With TLS: refuse clients without a certificate signed by the CA.</summary>
    public bool RequireClientCertificate { get; init; }

    /// <summary>Keep sessions and retained messages on disk across restarts (saved at shutdown).</summary>
    public bool Persistence { get; init; }

    /// <summary>mosquitto's max_packet_size (bytes); null for its default (no limit).</summary>
    public int? MaxPacketSize { get; init; }

    /// <summary>Messages queued per offline persistent client (mosquitto's default is 1000; 0 = unlimited).</summary>
    public int MaxQueuedMessages { get; init; }

    /// <summary>Further raw mosquitto.conf lines.</summary>
    public IReadOnlyList<string>? ExtraConfig { get; init; }
}

/// <summary>
/// A real mosquitto broker for tests: its own directory and config, a free loopback port, started
/// with <c>mosquitto -c</c>, ready once the port accepts connections, killed on dispose. Supports
/// graceful stop and restart on the same port (persistence), kill -9, and SIGSTOP/SIGCONT to
/// simulate a silently dead link.
/// </summary>
public sealed partial class MosquittoBroker : IAsyncDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int SigStop = 19;
    private const int SigCont = 18;

    private readonly MosquittoBrokerOptions _options;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private bool _paused;

    private MosquittoBroker(MosquittoBrokerOptions options, string directory, int port)
    {
        _options = options;
        Directory = directory;
        Port = port;
    }

    /// <summary>The broker's address (always loopback).</summary>
    public string Host => "127.0.0.1";

    /// <summary>The listener port (kept across restarts).</summary>
    public int Port { get; }

    /// <summary>Options of a client of this broker whose session outlives its connections (a persistent session, 10 minutes).</summary>
    public CortexEdge.Sync.Mqtt.MqttClientOptions PersistentSessionOptions(string clientId, bool manualAcknowledgement) => new()
    {
        Host = Host,
        Port = Port,
        ClientId = clientId,
        CleanSession = false,
        SessionExpiryIntervalSeconds = 600,
        ManualAcknowledgement = manualAcknowledgement,
    };

    /// <summary>The broker's private directory: config, password file, persistence, log.</summary>
    public string Directory { get; }

    /// <summary>Path of the broker's log file.</summary>
    public string LogFile => Path.Combine(Directory, "mosquitto.log");

    /// <summary>The process id of the running broker.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("The broker is not running.");

    /// <summary>Starts a broker and waits until it accepts connections.</summary>
    public static async Task<MosquittoBroker> StartAsync(MosquittoBrokerOptions? options = null)
    {
        options ??= new MosquittoBrokerOptions();
        string directory = Path.Combine(Path.GetTempPath(), "ce-mosquitto-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var broker = new MosquittoBroker(options, directory, GetFreePort());
        broker.WriteConfig();
        await broker.LaunchAsync();
        return broker;
    }

    /// <summary>A free loopback TCP port (released before returning; a race with another process is unlikely).</summary>
    public static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops the broker with SIGTERM (it saves persistence) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        Resume();
        Signal(SigTerm);
        await WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Kills the broker with SIGKILL (nothing saved since the last autosave).</summary>
    public async Task KillAsync()
    {
        if (_process is null)
        {
            return;
        }

        Resume();
        Signal(SigKill);
        await WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Starts the broker again on the same port with the same directory.</summary>
    public Task RestartAsync()
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("Stop or kill the broker before restarting it.");
        }

        return LaunchAsync();
    }

    /// <summary>SIGSTOP: the broker keeps its sockets open but answers nothing (a silently dead link).</summary>
    public void Pause()
    {
        Signal(SigStop);
        _paused = true;
    }

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume()
    {
        if (_paused)
        {
            Signal(SigCont);
            _paused = false;
        }
    }

    /// <summary>Waits until the broker's log shows a subscription to <paramref name="topicFilter"/> (log_type subscribe).</summary>
    public async Task WaitForSubscriptionAsync(string topicFilter, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(10)))
        {
            if (File.Exists(LogFile) && File.ReadAllLines(LogFile).Any(line => line.EndsWith(" " + topicFilter, StringComparison.Ordinal)))
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"No subscription to '{topicFilter}' in the broker log:\n{ReadLog()}");
    }

    /// <summary>The broker's log so far (for assertion messages).</summary>
    public string ReadLog()
    {
        string log = File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no log file)";
        lock (_output)
        {
            return log + _output;
        }
    }

    /// <summary>Kills the broker and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException exception)
        {
            Console.Error.WriteLine($"MosquittoBroker: could not delete {Directory}: {exception.Message}");
        }
    }

    private void WriteConfig()
    {
        var config = new List<string>
        {
            $"listener {Port} {Host}",
            $"log_dest file {LogFile}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "log_type subscribe",
            "connection_messages true",
            $"max_queued_messages {_options.MaxQueuedMessages}",
        };
        if (Environment.UserName == "root")
        {
            // mosquitto drops root privileges to the "mosquitto" user unless told otherwise; the
            // test directory belongs to root.
            config.Add("user root");
        }

        bool anonymous = _options.AllowAnonymous ?? _options.Users is null;
        config.Add($"allow_anonymous {(anonymous ? "true" : "false")}");
        if (_options.Users is not null)
        {
            string passwordFile = Path.Combine(Directory, "passwords");
            File.WriteAllText(passwordFile, string.Empty);
            foreach ((string user, string password) in _options.Users)
            {
                Run("mosquitto_passwd", "-b", passwordFile, user, password);
            }

            config.Add($"password_file {passwordFile}");
        }

        if (_options.AclLines is not null)
        {
            string aclFile = Path.Combine(Directory, "acl");
            File.WriteAllLines(aclFile, _options.AclLines);
            config.Add($"acl_file {aclFile}");
        }

        if (_options.Tls is MosquittoTlsMaterial tls)
        {
            config.Add($"cafile {tls.CaFile}");
            config.Add($"certfile {tls.ServerCertificateFile}");
            config.Add($"keyfile {tls.ServerKeyFile}");
            config.Add($"require_certificate {(_options.RequireClientCertificate ? "true" : "false")}");
        }

        if (_options.Persistence)
        {
            config.Add("persistence true");
            config.Add($"persistence_location {Directory}/");
            config.Add("autosave_interval 1");
        }

        if (_options.MaxPacketSize is int maxPacketSize)
        {
            config.Add($"max_packet_size {maxPacketSize}");
        }

        if (_options.ExtraConfig is not null)
        {
            config.AddRange(_options.ExtraConfig);
        }

        File.WriteAllLines(Path.Combine(Directory, "mosquitto.conf"), config);
    }

    private async Task LaunchAsync()
    {
        var start = new ProcessStartInfo("mosquitto")
        {
            ArgumentList = { "-c", Path.Combine(Directory, "mosquitto.conf") },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start mosquitto.");
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _process = process;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (process.HasExited)
            {
                _process = null;
                throw new InvalidOperationException($"mosquitto exited with code {process.ExitCode} at start:\n{ReadLog()}");
            }

            using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(Host, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"mosquitto did not accept connections on {Host}:{Port} within 15 s:\n{ReadLog()}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitForExitAsync(TimeSpan timeout)
    {
        Process process = _process!;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        process.Dispose();
        _process = null;
    }

    private void Signal(int signal)
    {
        if (_process is null)
        {
            return;
        }

        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    internal static string Run(string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}: {stderr}");
        }

        return stdout.Result;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
