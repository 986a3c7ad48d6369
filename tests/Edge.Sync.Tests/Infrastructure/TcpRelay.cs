using System.Net;
using System.Net.Sockets;

namespace CortexEdge.Sync.Tests.Infrastructure;

/// <summary>
/// A loopback TCP relay in front of a real broker, for link faults a broker cannot produce on its
/// own: <see cref="AbortAll"/> resets every relayed connection (a crashed client or a cut cable),
/// and <see cref="RefuseMqtt5"/> answers an MQTT 5.0 CONNECT the way a 3.1.1-only broker must
/// (CONNACK return code 1, then close; MQTT 3.1.1 section 3.1.2.2), relaying 3.1.1 untouched.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _acceptLoop;
    private int _refusedCount;

    public TcpRelay(string targetHost, int targetPort, bool refuseMqtt5 = false)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        RefuseMqtt5 = refuseMqtt5;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public bool RefuseMqtt5 { get; }

    /// <summary>
    /// While true, bytes from clients are read and dropped instead of reaching the broker (the
    /// broker keeps sending): e.g. acknowledgements that are lost on the way.
    /// </summary>
    public bool DropClientToBroker { get; set; }

    /// <summary>How many MQTT 5.0 CONNECTs were refused.</summary>
    public int RefusedCount => Volatile.Read(ref _refusedCount);

    /// <summary>Resets every relayed connection on both sides (RST, no FIN, no DISCONNECT).</summary>
    public void AbortAll()
    {
        lock (_sockets)
        {
            foreach (Socket socket in _sockets)
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                }
                catch (ObjectDisposedException)
                {
                    // Already closed by its relay task.
                }

                socket.Close();
            }

            _sockets.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        AbortAll();
        try
        {
            await _acceptLoop;
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped on purpose.
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client = await _listener.AcceptSocketAsync(_stop.Token);
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
        Track(client);
        Track(upstream);
        try
        {
            if (RefuseMqtt5)
            {
                // Read the first packet to see the protocol level (byte 8 of a CONNECT with "MQTT").
                var first = new byte[4096];
                int count = 0;
                while (count < 9)
                {
                    int read = await client.ReceiveAsync(first.AsMemory(count), _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    count += read;
                }

                int lengthBytes = 1;
                while ((first[lengthBytes] & 0x80) != 0)
                {
                    lengthBytes++;
                }

                int levelIndex = 1 + lengthBytes + 6;
                if (first[levelIndex] == 5)
                {
                    Interlocked.Increment(ref _refusedCount);
                    await client.SendAsync(new byte[] { 0x20, 0x02, 0x00, 0x01 }, _stop.Token);
                    client.Shutdown(SocketShutdown.Both);
                    return;
                }

                await upstream.ConnectAsync(_targetHost, _targetPort, _stop.Token);
                await upstream.SendAsync(first.AsMemory(0, count), _stop.Token);
            }
            else
            {
                await upstream.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            }

            await Task.WhenAny(PumpAsync(client, upstream, fromClient: true), PumpAsync(upstream, client, fromClient: false));
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // A relayed connection ended (often on purpose, by AbortAll).
        }
        finally
        {
            client.Dispose();
            upstream.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool fromClient)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                if (fromClient && DropClientToBroker)
                {
                    continue;
                }

                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One side went away; the other is closed by the caller.
        }
    }

    private void Track(Socket socket)
    {
        lock (_sockets)
        {
            _sockets.Add(socket);
        }
    }
}
