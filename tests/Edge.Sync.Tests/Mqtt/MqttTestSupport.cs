using System.Diagnostics;
using System.Text;
using CortexEdge.Sync.Mqtt;
using CortexEdge.Sync.Tests.Infrastructure;

namespace CortexEdge.Sync.Tests.Mqtt;

/// <summary>Shared helpers of the broker tests: clients, receiving with a timeout, mosquitto_pub/sub.</summary>
internal static class MqttTestSupport
{
    public static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(15);

    public static MqttClientOptions Options(int port, MqttProtocolVersion version = MqttProtocolVersion.V500, string? clientId = null) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        ProtocolVersion = version,
        ClientId = clientId ?? "ce-test-" + Guid.NewGuid().ToString("N")[..10],
        ReconnectDelayMin = TimeSpan.FromMilliseconds(50),
        ReconnectDelayMax = TimeSpan.FromSeconds(1),
    };

    public static async Task<MqttClient> ConnectAsync(MqttClientOptions options)
    {
        var client = new MqttClient(options);
        await client.ConnectAsync();
        return client;
    }

    public static Task<MqttClient> ConnectAsync(MosquittoBroker broker, MqttProtocolVersion version = MqttProtocolVersion.V500) =>
        ConnectAsync(Options(broker.Port, version));

    public static async Task<MqttMessage> ReceiveAsync(MqttClient client, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? ReceiveTimeout);
        return await client.Messages.ReadAsync(cts.Token);
    }

    /// <summary>True when no message arrives within <paramref name="wait"/>.</summary>
    public static async Task<bool> NothingReceivedAsync(MqttClient client, TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            await client.Messages.WaitToReadAsync(cts.Token);
            return !client.Messages.TryPeek(out _);
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    public static string VersionFlag(MqttProtocolVersion version) => version == MqttProtocolVersion.V500 ? "mqttv5" : "mqttv311";

    public static void MosquittoPub(int port, string topic, string message, int qos, MqttProtocolVersion version, bool retain = false, params string[] extra)
    {
        var args = new List<string> { "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-m", message, "-q", qos.ToString(System.Globalization.CultureInfo.InvariantCulture), "-V", VersionFlag(version) };
        if (retain)
        {
            args.Add("-r");
        }

        args.AddRange(extra);
        MosquittoBroker.Run("mosquitto_pub", [.. args]);
    }

    /// <summary>Starts mosquitto_sub for <paramref name="count"/> messages; the task yields its output lines.</summary>
    public static async Task<(Task<string[]> Lines, Process Process)> StartMosquittoSubAsync(MosquittoBroker broker, string topic, int qos, int count, MqttProtocolVersion version)
    {
        var start = new ProcessStartInfo("mosquitto_sub") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "-h", "127.0.0.1", "-p", broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-q", qos.ToString(System.Globalization.CultureInfo.InvariantCulture), "-C", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "-V", VersionFlag(version), "-W", "30" })
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start)!;
        await broker.WaitForSubscriptionAsync(topic);
        async Task<string[]> ReadAsync()
        {
            string output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        return (ReadAsync(), process);
    }

    public static ReadOnlyMemory<byte> Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static string UniqueTopic(string prefix) => $"ce/test/{prefix}/{Guid.NewGuid():N}";

    /// <summary>
    /// A task that completes at the client's next Reconnecting -> Connected transition. Create it
    /// before breaking the link: a fast reconnect is over before polling could see it.
    /// </summary>
    public static Task WhenReconnectedAsync(MqttClient client)
    {
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ConnectionStateChanged += (_, e) =>
        {
            if (e.PreviousState == MqttConnectionState.Reconnecting && e.State == MqttConnectionState.Connected)
            {
                reconnected.TrySetResult();
            }
        };
        return reconnected.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling; fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(20)))
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(25);
        }
    }
}
