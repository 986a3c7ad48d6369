using System.Net.Sockets;
using System.Text;
using CortexEdge.Agent.Daemon;

namespace CortexEdge.Agent.Tests.Daemon;

public sealed class SystemdNotifierTests
{
    private static string Receive(Socket socket)
    {
        var buffer = new byte[1024];
        socket.ReceiveTimeout = 5000;
        int length = socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    [Fact]
    public void Ready_SendsDatagramToPathSocket()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ce-notify-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            using var notifier = new SystemdNotifier(path);
            Assert.True(notifier.IsEnabled);
            notifier.Ready("serving");
            string message = Receive(listener);
            Assert.Contains("READY=1\n", message);
            Assert.Contains("STATUS=serving", message);
            notifier.WatchdogPing();
            Assert.Equal("WATCHDOG=1", Receive(listener));
            notifier.Stopping("bye");
            Assert.StartsWith("STOPPING=1", Receive(listener));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AbstractSocketName_IsTranslated()
    {
        string name = $"ce-notify-{Guid.NewGuid():N}";
        using var listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint("\0" + name));
        using var notifier = new SystemdNotifier("@" + name);
        notifier.Status("hello");
        Assert.Equal("STATUS=hello", Receive(listener));
    }

    [Fact]
    public void WithoutSocket_IsDisabledAndSilent()
    {
        using var notifier = new SystemdNotifier(null);
        Assert.False(notifier.IsEnabled);
        notifier.Ready("x"); // must not throw
    }

    [Fact]
    public void ListenerGone_DoesNotThrow()
    {
        using var notifier = new SystemdNotifier(Path.Combine(Path.GetTempPath(), $"absent-{Guid.NewGuid():N}.sock"));
        notifier.Ready("x");
        notifier.WatchdogPing();
    }
}
