using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Sync.Mqtt;

namespace CortexEdge.Benchmarks.Mqtt;

/// <summary>
/// Publish throughput (QoS 0, 1, 2) and latency (publish to subscriber round trip, publish to
/// PUBACK) of the CortexEdge MQTT client beside MQTT.js, through the same private mosquitto in the
/// same run, MQTT 3.1.1, 256-byte payloads. Also reports the client's steady-state allocation per
/// published message.
/// </summary>
public sealed class MqttBenchmarkSuite : BenchmarkSuite
{
    private const int PayloadBytes = 256;
    private const string PeerName = "MQTT.js";

    public override string Name => "mqtt";

    public override string Title => "MQTT client: publish throughput and latency through mosquitto";

    public override async Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        int count = Math.Max(2_000, (int)(50_000 * scale));
        int samples = Math.Max(200, (int)(2_000 * scale));
        string? peers = Environment.GetEnvironmentVariable("CE_BENCH_PEERS");
        bool peerAvailable = peers is not null && Directory.Exists(Path.Combine(peers, "node_modules", "mqtt"));
        string scriptPath = Path.Combine(Path.GetTempPath(), $"ce-mqttjs-peer-{Environment.ProcessId}.js");
        await File.WriteAllTextAsync(scriptPath, MqttJsPeer.Script, cancellationToken);
        await using BenchmarkMosquitto broker = await BenchmarkMosquitto.StartAsync();
        try
        {
            foreach (int qos in new[] { 0, 1, 2 })
            {
                // QoS 2 keeps 20 in flight: mosquitto's max_inflight_messages, which it enforces on 3.1.1 publishers.
                int window = qos == 2 ? 20 : 1000;
                (double ours, double bytesPerMessage) = await OurThroughputAsync(broker.Port, count, qos, window);
                string note = $"{count:N0} msgs, window {window}" + (qos == 0 ? ", timed to the PUBACK of a trailing QoS 1 publish" : string.Empty);
                if (peerAvailable)
                {
                    JsonElement peer = RunPeer(peers!, scriptPath, broker.Port, "throughput", count, qos, window);
                    report.Compare($"publish QoS {qos} throughput", "msg/s", ours, PeerName, peer.GetProperty("messagesPerSecond").GetDouble(), lowerIsBetter: false, note);
                }
                else
                {
                    report.Figure($"publish QoS {qos} throughput", "msg/s", ours, note + "; MQTT.js not installed in CE_BENCH_PEERS");
                }

                report.Figure($"allocation per QoS {qos} publish", "B/msg", bytesPerMessage, "steady state: GC.GetTotalAllocatedBytes over the throughput run, all threads, / messages");
            }

            foreach (int qos in new[] { 0, 1 })
            {
                (LatencyRecorder roundTrip, LatencyRecorder ack) = await OurLatencyAsync(broker.Port, samples, qos);
                JsonElement? peer = peerAvailable ? RunPeer(peers!, scriptPath, broker.Port, "latency", samples, qos, 1) : null;
                ReportLatency(report, $"QoS {qos} round trip p50", roundTrip.P50, peer, "roundTripP50Us", samples);
                ReportLatency(report, $"QoS {qos} round trip p99", roundTrip.P99, peer, "roundTripP99Us", samples);
                if (qos == 1)
                {
                    ReportLatency(report, "QoS 1 publish to PUBACK p50", ack.P50, peer, "ackP50Us", samples);
                    ReportLatency(report, "QoS 1 publish to PUBACK p99", ack.P99, peer, "ackP99Us", samples);
                }
            }

            report.Note(
                $"Both clients speak MQTT 3.1.1 to the same private mosquitto {MosquittoVersion()} on loopback, {PayloadBytes}-byte payloads. " +
                "Throughput keeps a window of unacknowledged publishes (1000 for QoS 1, 20 for QoS 2; MQTT.js driven the same way from its callbacks). " +
                "Round trip = publish on one connection until the message arrives on a second, one at a time; PUBACK = publish until acknowledged. " +
                "MQTT.js runs in node " + NodeVersion() + ".");
        }
        finally
        {
            File.Delete(scriptPath);
        }
    }

    private static void ReportLatency(BenchmarkReport report, string metric, TimeSpan ours, JsonElement? peer, string property, int samples)
    {
        string note = $"{samples:N0} samples after 200 warm-up";
        if (peer is JsonElement figures)
        {
            report.Compare(metric, "µs", ours.TotalMicroseconds, PeerName, figures.GetProperty(property).GetDouble(), lowerIsBetter: true, note);
        }
        else
        {
            report.Figure(metric, "µs", ours.TotalMicroseconds, note + "; MQTT.js not installed in CE_BENCH_PEERS");
        }
    }

    private static MqttClientOptions Options(int port, int window) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        ProtocolVersion = MqttProtocolVersion.V311,
        InflightCountMax = window,
        OutgoingQueueCountMax = Math.Max(10_000, window * 2),
        AutoReconnect = false,
    };

    private static async Task<(double MessagesPerSecond, double BytesPerMessage)> OurThroughputAsync(int port, int count, int qos, int window)
    {
        await using var client = new MqttClient(Options(port, window));
        await client.ConnectAsync();
        string topic = "bench/ce/throughput/" + Environment.ProcessId;
        byte[] payload = new byte[PayloadBytes];
        var level = (MqttQualityOfService)qos;
        var ring = new ValueTask[window];
        // Warm-up: JIT, the operation pool, and the send buffers grown to their steady size (QoS 0 fills them).
        await PublishWindowedAsync(client, topic, payload, level, qos == 0 ? 20_000 : 2_000, ring);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();
        await PublishWindowedAsync(client, topic, payload, level, count, ring);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        return (count / seconds, (double)allocated / count);
    }

    private static async Task PublishWindowedAsync(MqttClient client, string topic, byte[] payload, MqttQualityOfService qos, int count, ValueTask[] ring)
    {
        if (qos == MqttQualityOfService.AtMostOnce)
        {
            for (int i = 0; i < count; i++)
            {
                await client.PublishAsync(topic, payload, qos);
            }

            // The broker has read every QoS 0 packet once it acknowledges one sent after them.
            await client.PublishAsync(topic, payload, MqttQualityOfService.AtLeastOnce);
            return;
        }

        for (int i = 0; i < count; i++)
        {
            int slot = i % ring.Length;
            if (i >= ring.Length)
            {
                await ring[slot];
            }

            ring[slot] = client.PublishAsync(topic, payload, qos);
        }

        for (int i = Math.Max(0, count - ring.Length); i < count; i++)
        {
            await ring[i % ring.Length];
        }
    }

    private static async Task<(LatencyRecorder RoundTrip, LatencyRecorder Ack)> OurLatencyAsync(int port, int samples, int qos)
    {
        string topic = "bench/ce/latency/" + Environment.ProcessId;
        await using var subscriber = new MqttClient(Options(port, 20));
        await subscriber.ConnectAsync();
        await subscriber.SubscribeAsync(topic, (MqttQualityOfService)qos);
        await using var publisher = new MqttClient(Options(port, 20));
        await publisher.ConnectAsync();
        byte[] payload = new byte[PayloadBytes];
        var roundTrip = new LatencyRecorder(samples);
        for (int i = 0; i < samples + 200; i++)
        {
            long start = LatencyRecorder.Start();
            await publisher.PublishAsync(topic, payload, (MqttQualityOfService)qos);
            await subscriber.Messages.ReadAsync();
            if (i >= 200)
            {
                roundTrip.Stop(start);
            }
        }

        var ack = new LatencyRecorder(samples);
        string ackTopic = "bench/ce/ack/" + Environment.ProcessId;
        for (int i = 0; i < samples + 200; i++)
        {
            long start = LatencyRecorder.Start();
            await publisher.PublishAsync(ackTopic, payload, MqttQualityOfService.AtLeastOnce);
            if (i >= 200)
            {
                ack.Stop(start);
            }
        }

        return (roundTrip, ack);
    }

    private static JsonElement RunPeer(string peers, string scriptPath, int port, string mode, int count, int qos, int window)
    {
        var start = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { scriptPath, port.ToString(CultureInfo.InvariantCulture), mode, count.ToString(CultureInfo.InvariantCulture), qos.ToString(CultureInfo.InvariantCulture), window.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NODE_PATH"] = Path.Combine(peers, "node_modules");
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"MQTT.js peer ({mode}, QoS {qos}) failed with exit code {process.ExitCode}: {error.Result}");
        }

        return JsonDocument.Parse(output.Trim()).RootElement.Clone();
    }

    private static string MosquittoVersion() => FirstLine("mosquitto", "-h").Replace("mosquitto version ", string.Empty, StringComparison.Ordinal);

    private static string NodeVersion() => FirstLine("node", "--version");

    private static string FirstLine(string fileName, string argument)
    {
        var start = new ProcessStartInfo(fileName, argument) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "?";
    }
}
