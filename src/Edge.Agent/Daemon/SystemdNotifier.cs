using System.Net.Sockets;
using System.Text;

namespace CortexEdge.Agent.Daemon;

/// <summary>
/// The sd_notify protocol: datagrams such as <c>READY=1</c> sent to the socket systemd names in
/// <c>NOTIFY_SOCKET</c> (a path, or an abstract name starting with '@'). Without that variable
/// (not started by systemd with Type=notify) every call does nothing. Thread-safe.
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endPoint;
    private readonly Lock _sendLock = new();

    /// <summary>Creates a notifier for the given socket address (null: disabled).</summary>
    public SystemdNotifier(string? notifySocket, TimeSpan? watchdogInterval = null)
    {
        WatchdogInterval = watchdogInterval;
        if (string.IsNullOrEmpty(notifySocket))
        {
            return;
        }

        // An abstract socket is written "@name"; the kernel wants a leading NUL instead.
        string address = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
        _endPoint = new UnixDomainSocketEndPoint(address);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>Reads NOTIFY_SOCKET and WATCHDOG_USEC (honouring WATCHDOG_PID) from the environment.</summary>
    public static SystemdNotifier FromEnvironment()
    {
        TimeSpan? watchdog = null;
        string? usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        string? pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        bool forUs = pid is null || pid == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (forUs && long.TryParse(usec, out long microseconds) && microseconds > 0)
        {
            watchdog = TimeSpan.FromMicroseconds(microseconds);
        }

        return new SystemdNotifier(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"), watchdog);
    }

    /// <summary>True when a notify socket was given.</summary>
    public bool IsEnabled => _socket is not null;

    /// <summary>The watchdog timeout systemd expects pings within (null: no watchdog).</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>Start-up is complete: the service is ready.</summary>
    public void Ready(string status) => Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}");

    /// <summary>Shutdown has begun.</summary>
    public void Stopping(string status) => Send($"STOPPING=1\nSTATUS={status}");

    /// <summary>A free-form status line shown by <c>systemctl status</c>.</summary>
    public void Status(string status) => Send($"STATUS={status}");

    /// <summary>The service is alive; call at least every half <see cref="WatchdogInterval"/>.</summary>
    public void WatchdogPing() => Send("WATCHDOG=1");

    private void Send(string message)
    {
        if (_socket is null)
        {
            return;
        }

        byte[] datagram = Encoding.UTF8.GetBytes(message);
        lock (_sendLock)
        {
            try
            {
                _socket.SendTo(datagram, _endPoint!);
            }
            catch (SocketException)
            {
                // systemd went away (or never listened); a missed notification must not stop the agent.
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _socket?.Dispose();
}
