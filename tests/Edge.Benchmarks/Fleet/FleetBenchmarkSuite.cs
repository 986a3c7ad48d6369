using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Core;
using CortexEdge.Core.Documents;
using CortexEdge.Core.Wal;
using CortexEdge.Sync.Fleet;

namespace CortexEdge.Benchmarks.Fleet;

/// <summary>
/// Anti-entropy cost: bytes exchanged and time to verify two replicas of 100k documents that agree
/// and that differ in 10, beside the peer every sync system falls back to without digests — a full
/// state transfer (every key, canonical JSON and version sent and compared). Also the presence
/// traffic per node per hour at the default one report a minute.
/// </summary>
public sealed class FleetBenchmarkSuite : BenchmarkSuite
{
    private const int Runs = 7;

    private const int WarmupRuns = 3;

    /// <inheritdoc/>
    public override string Name => "fleet";

    /// <inheritdoc/>
    public override string Title => "Fleet: anti-entropy verify cost vs full-state transfer; presence traffic";

    /// <inheritdoc/>
    public override async Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        int count = Math.Max(1_000, (int)(100_000 * scale));
        Replica local = Replica.Create(count);
        Replica agreeing = local.Clone();
        Replica differing = local.Clone();
        for (int index = 0; index < 10; index++)
        {
            string key = Replica.Key((int)((long)index * count / 10) + 3);
            differing.Documents[key] = (differing.Documents[key].Json + " ", differing.Documents[key].Version + 1);
        }

        foreach ((string label, Replica peer, int expected) in new[] { ("agree", agreeing, 0), ("differ in 10", differing, 10) })
        {
            var ours = new LatencyRecorder(Runs);
            var full = new LatencyRecorder(Runs);
            long ourBytes = 0;
            long fullBytes = 0;
            for (int run = 0; run < Runs + WarmupRuns; run++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long start = LatencyRecorder.Start();
                // Both sides digest their own state (the peer's responder builds at the asked depth).
                AntiEntropyReport result = AntiEntropyExchange.Compare(MerkleDigest.Build(local), new AntiEntropyResponder(peer));
                if (run >= WarmupRuns)
                {
                    ours.Stop(start);
                }

                Check(result.Result.DifferingKeys.Count == expected, $"{label}: anti-entropy found {result.Result.DifferingKeys.Count} keys, expected {expected}");
                ourBytes = result.BytesExchanged;

                start = LatencyRecorder.Start();
                (int differences, long bytes) = FullStateCompare(local, peer);
                if (run >= WarmupRuns)
                {
                    full.Stop(start);
                }

                Check(differences == expected, $"{label}: full-state compare found {differences}, expected {expected}");
                fullBytes = bytes;
            }

            string docs = count.ToString("N0", CultureInfo.InvariantCulture);
            report.Compare($"{docs} docs, {label}: bytes exchanged", "B", ourBytes, "full-state transfer", fullBytes, lowerIsBetter: true,
                note: $"{100.0 * ourBytes / fullBytes:0.000}% of full state (target < 1% when 10 differ)");
            report.Compare($"{docs} docs, {label}: time to verify p50", "ms", ours.P50.TotalMilliseconds, "full-state transfer", full.P50.TotalMilliseconds, lowerIsBetter: true,
                note: "both sides digest from memory; wire is in-process");
        }

        byte[] presence = PresenceCodec.Encode(new PresenceReport
        {
            Node = "gateway-0042", Online = true, Backlog = 1234, LastSync = DateTimeOffset.UtcNow, ManifestRevision = 7, SchemaVersion = 3, BatteryPercent = 87, SentAt = DateTimeOffset.UtcNow,
        });
        int topicBytes = Encoding.UTF8.GetByteCount(PresencePublisher.TopicFor("plant-01", "gateway-0042"));
        // MQTT 3.1.1 QoS 0 PUBLISH: 1 fixed header + 1-2 length bytes + 2 topic length + topic + payload; 60 a hour.
        double perHour = 60 * (1 + 2 + 2 + topicBytes + presence.Length);
        report.Figure("presence traffic per node per hour", "B", perHour, $"one report a minute ({presence.Length} B payload, QoS 0, no PINGs counted); will sent once");
        await RunDatabasesAsync(report, count, cancellationToken);
        report.Note("Anti-entropy: fanout-16 Merkle tree over 64-bit key-hash buckets (about two keys per leaf); leaf = sum of item hashes (key, canonical JSON, HLC). The full-state peer serializes every key, canonical JSON and version, the receiver decodes and compares against its own map.");
    }

    /// <summary>The same verify on two real databases (a byte copy, then 10 documents patched on one): digests built from SQLite scans.</summary>
    private static async Task RunDatabasesAsync(BenchmarkReport report, int count, CancellationToken cancellationToken)
    {
        string root = Path.Combine(Environment.GetEnvironmentVariable("CE_BENCH_DIR") ?? Path.Combine(AppContext.BaseDirectory, "bench-data"), "fleet-" + Guid.NewGuid().ToString("N"));
        string leaderDirectory = Path.Combine(root, "leader");
        string nodeDirectory = Path.Combine(root, "node");
        try
        {
            await using (EdgeDatabase database = EdgeDatabase.Open(leaderDirectory, new EdgeDatabaseOptions { Durability = WalDurability.None, WalSegmentBytes = 64L << 20 }))
            {
                var random = new Random(42);
                for (int index = 0; index < count; index++)
                {
                    await database.PutAsync("sensors", Replica.Key(index), string.Create(CultureInfo.InvariantCulture,
                        $"{{\"humidity\":{random.Next(20, 80)},\"room\":\"r{random.Next(40)}\",\"temp\":{random.Next(15, 30)}}}"), cancellationToken);
                }

                await database.CheckpointAsync(cancellationToken);
            }

            foreach (string file in Directory.GetFiles(leaderDirectory, "*", SearchOption.AllDirectories))
            {
                string target = Path.Combine(nodeDirectory, Path.GetRelativePath(leaderDirectory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            using EdgeDatabase leader = EdgeDatabase.Open(leaderDirectory);
            using EdgeDatabase node = EdgeDatabase.Open(nodeDirectory);
            var agree = LatencyRecorder.Measure(Runs, () => Check(Verify(node, leader).Result.InAgreement, "databases: copies do not agree"), warmup: 1);
            for (int index = 0; index < 10; index++)
            {
                await node.PatchAsync("sensors", Replica.Key((int)((long)index * count / 10) + 1), "{\"temp\":-1}", cancellationToken);
            }

            AntiEntropyReport differing = Verify(node, leader);
            Check(differing.Result.DifferingKeys.Count == 10, $"databases: {differing.Result.DifferingKeys.Count} keys differ, expected 10");
            var differ = LatencyRecorder.Measure(Runs, () => Verify(node, leader), warmup: 1);
            var full = LatencyRecorder.Measure(Runs, () => Check(FullStateCompare(node, leader) == 10, "databases: full-state compare missed a difference"), warmup: 1);
            string docs = count.ToString("N0", CultureInfo.InvariantCulture);
            report.Compare($"{docs} docs in EdgeDatabase, agree: time to verify p50", "ms", agree.P50.TotalMilliseconds, "full-state transfer", full.P50.TotalMilliseconds, lowerIsBetter: true,
                note: "both: scan node and leader; peer also serializes and compares every document (wire in-process)");
            report.Compare($"{docs} docs in EdgeDatabase, differ in 10: time to verify p50", "ms", differ.P50.TotalMilliseconds, "full-state transfer", full.P50.TotalMilliseconds, lowerIsBetter: true,
                note: $"{differing.BytesExchanged} bytes exchanged");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The peer on real databases: the leader's scan serialized (key, JSON, HLC), decoded at the node and compared with the node's scan.</summary>
    private static int FullStateCompare(EdgeDatabase node, EdgeDatabase leader)
    {
        var wire = new ArrayBufferWriter<byte>(1 << 20);
        foreach (EdgeDocument document in leader.Scan("sensors"))
        {
            WriteString(wire, document.Key);
            BinaryPrimitives.WriteUInt16LittleEndian(wire.GetSpan(2), (ushort)document.Utf8Json.Length);
            wire.Advance(2);
            wire.Write(document.Utf8Json.Span);
            BinaryPrimitives.WriteUInt64LittleEndian(wire.GetSpan(8), document.LastChange.Time);
            wire.Advance(8);
        }

        var local = new Dictionary<string, (byte[] Json, ulong Time)>(StringComparer.Ordinal);
        foreach (EdgeDocument document in node.Scan("sensors"))
        {
            local[document.Key] = (document.Utf8Json.ToArray(), document.LastChange.Time);
        }

        ReadOnlySpan<byte> span = wire.WrittenSpan;
        int differences = 0;
        int presentInBoth = 0;
        while (!span.IsEmpty)
        {
            string key = ReadString(ref span);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(span);
            ReadOnlySpan<byte> json = span.Slice(2, length);
            ulong time = BinaryPrimitives.ReadUInt64LittleEndian(span[(2 + length)..]);
            span = span[(2 + length + 8)..];
            if (!local.TryGetValue(key, out (byte[] Json, ulong Time) mine))
            {
                differences++;
                continue;
            }

            presentInBoth++;
            if (mine.Time != time || !json.SequenceEqual(mine.Json))
            {
                differences++;
            }
        }

        return differences + local.Count - presentInBoth;
    }

    private static AntiEntropyReport Verify(EdgeDatabase node, EdgeDatabase leader) =>
        AntiEntropyExchange.Compare(MerkleDigest.Build(new EdgeCollectionSource(node, "sensors")), new AntiEntropyResponder(new EdgeCollectionSource(leader, "sensors")));

    private static (int Differences, long Bytes) FullStateCompare(Replica local, Replica peer)
    {
        var wire = new ArrayBufferWriter<byte>(1 << 20);
        foreach ((string key, (string json, ulong version)) in peer.Documents)
        {
            WriteString(wire, key);
            WriteString(wire, json);
            BinaryPrimitives.WriteUInt64LittleEndian(wire.GetSpan(8), version);
            wire.Advance(8);
        }

        ReadOnlySpan<byte> span = wire.WrittenSpan;
        int differences = 0;
        int presentInBoth = 0;
        while (!span.IsEmpty)
        {
            string key = ReadString(ref span);
            string json = ReadString(ref span);
            ulong version = BinaryPrimitives.ReadUInt64LittleEndian(span);
            span = span[8..];
            if (!local.Documents.TryGetValue(key, out (string Json, ulong Version) mine))
            {
                differences++;
                continue;
            }

            presentInBoth++;
            if (mine.Version != version || mine.Json != json)
            {
                differences++;
            }
        }

        // Keys only the local side holds differ too.
        return (differences + local.Documents.Count - presentInBoth, wire.WrittenCount);
    }

    private static void WriteString(ArrayBufferWriter<byte> wire, string text)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        BinaryPrimitives.WriteUInt16LittleEndian(wire.GetSpan(2), (ushort)length);
        wire.Advance(2);
        wire.Advance(Encoding.UTF8.GetBytes(text, wire.GetSpan(length)));
    }

    private static string ReadString(ref ReadOnlySpan<byte> span)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(span);
        string text = Encoding.UTF8.GetString(span.Slice(2, length));
        span = span[(2 + length)..];
        return text;
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException("fleet benchmark: " + message);
        }
    }

    private sealed class Replica : IAntiEntropySource
    {
        public Dictionary<string, (string Json, ulong Version)> Documents { get; } = new(StringComparer.Ordinal);

        public static string Key(int index) => "sensor-" + index.ToString("D7", CultureInfo.InvariantCulture);

        public static Replica Create(int count)
        {
            var random = new Random(42);
            var replica = new Replica();
            for (int index = 0; index < count; index++)
            {
                string json = string.Create(CultureInfo.InvariantCulture,
                    $"{{\"humidity\":{random.Next(20, 80)}.{random.Next(10)},\"on\":true,\"room\":\"r{random.Next(40)}\",\"temp\":{random.Next(15, 30)}.{random.Next(10)}}}");
                replica.Documents[Key(index)] = (json, (ulong)(1_700_000_000_000L + index) << 16);
            }

            return replica;
        }

        public Replica Clone()
        {
            var clone = new Replica();
            foreach ((string key, (string Json, ulong Version) value) in Documents)
            {
                clone.Documents[key] = value;
            }

            return clone;
        }

        public IEnumerable<AntiEntropyItem> ReadItems()
        {
            byte[] buffer = new byte[256];
            foreach ((string key, (string json, ulong version)) in Documents)
            {
                int length = Encoding.UTF8.GetBytes(json, buffer);
                yield return AntiEntropyItem.Create(key, buffer.AsSpan(0, length), version);
            }
        }
    }
}
