using System.Diagnostics;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Core.Clocks;
using CortexEdge.Core.Crdt;

namespace CortexEdge.Benchmarks.Crdt;

/// <summary>
/// Delta merge throughput and latency, encoded delta size and state size after many add/remove
/// cycles, for counters, the two sets and the LWW map, beside Automerge doing the same operations
/// in the same run. A merge is decode + join of one binary delta, as sync applies it (Automerge:
/// applyChanges of one binary change).
/// </summary>
public sealed class CrdtBenchmarkSuite : BenchmarkSuite
{
    private const ulong SourceReplica = 0x5EED_0000_0000_0001;

    /// <inheritdoc />
    public override string Name => "crdt";

    /// <inheritdoc />
    public override string Title => "CRDT merge throughput and delta size";

    /// <inheritdoc />
    public override async Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        // Whole add/remove phases of 200 ops plus 50 adds: the sets end holding 50 live elements.
        int operations = (Math.Max(1000, (int)(20_000 * scale)) / 200 * 200) + 50;

        // Automerge applies one change in 0.5-2 ms here, so it gets fewer operations (per-delta figures
        // do not depend on the count; the state-size row compares both at the peer's count).
        int peerOperations = (Math.Max(400, (int)(3_000 * scale)) / 200 * 200) + 50;
        var codec = CrdtValueCodecs.String;

        var results = new (string Workload, string PeerWorkload, OurResult Ours)[]
        {
            ("G-Counter increment", "counter", Measure(operations, () => new GCounter(), (c, i) => c.Increment(SourceReplica, 1), b => GCounter.Decode(b))),
            ("PN-Counter increment", "counter", Measure(operations, () => new PnCounter(), (c, i) => c.Increment(SourceReplica, 1), b => PnCounter.Decode(b))),
            ("OR-Set add/remove", "set", Measure(operations, () => new OrSet<string>(codec), (s, i) => SetPhaseAdds(i) ? s.Add(SourceReplica, SetElement(i)) : s.Remove(SetElement(i)), b => OrSet<string>.Decode(b, codec))),
            ("Add-Wins Set add/remove", "set", Measure(operations, () => new AddWinsSet<string>(codec), (s, i) => SetPhaseAdds(i) ? s.Add(SourceReplica, SetElement(i)) : s.Remove(SetElement(i)), b => AddWinsSet<string>.Decode(b, codec))),
            ("LWW-Map set", "map", Measure(operations, () => new LwwMap<string, long>(codec, CrdtValueCodecs.Int64), (m, i) => m.Set("k" + (i * 31 % 1000), i, new HlcTimestamp((ulong)i + 1, SourceReplica)), b => LwwMap<string, long>.Decode(b, codec, CrdtValueCodecs.Int64))),
        };

        var setStateBytes = new Dictionary<string, int>
        {
            ["OR-Set add/remove"] = StateBytesAfter(peerOperations, () => new OrSet<string>(codec), (s, i) => SetPhaseAdds(i) ? s.Add(SourceReplica, SetElement(i)) : s.Remove(SetElement(i))),
            ["Add-Wins Set add/remove"] = StateBytesAfter(peerOperations, () => new AddWinsSet<string>(codec), (s, i) => SetPhaseAdds(i) ? s.Add(SourceReplica, SetElement(i)) : s.Remove(SetElement(i))),
        };

        (Dictionary<string, AutomergePeer.Result>? peer, string? unavailable) = await AutomergePeer.RunAsync(peerOperations, cancellationToken);
        string peerName = peer is null ? "Automerge" : $"Automerge {peer.Values.First().Version}";
        foreach ((string workload, string peerWorkload, OurResult ours) in results)
        {
            if (peer is null || !peer.TryGetValue(peerWorkload, out AutomergePeer.Result? theirs))
            {
                report.Figure($"{workload}: merge throughput", "deltas/s", ours.Throughput, unavailable ?? "no peer figure");
                report.Figure($"{workload}: merge latency p50", "µs", ours.P50Microseconds, unavailable ?? "no peer figure");
                report.Figure($"{workload}: merge latency p99", "µs", ours.P99Microseconds, unavailable ?? "no peer figure");
                report.Figure($"{workload}: encoded delta p50", "bytes", ours.DeltaBytes, unavailable ?? "no peer figure");
                continue;
            }

            report.Compare($"{workload}: merge throughput", "deltas/s", ours.Throughput, peerName, theirs.Throughput, lowerIsBetter: false);
            report.Compare($"{workload}: merge latency p50", "µs", ours.P50Microseconds, peerName, theirs.P50Microseconds, lowerIsBetter: true);
            report.Compare($"{workload}: merge latency p99", "µs", ours.P99Microseconds, peerName, theirs.P99Microseconds, lowerIsBetter: true);
            report.Compare($"{workload}: encoded delta p50", "bytes", ours.DeltaBytes, peerName, theirs.DeltaBytes, lowerIsBetter: true);
            if (setStateBytes.TryGetValue(workload, out int stateBytes))
            {
                report.Compare($"{workload}: state after {peerOperations:N0} ops over 100 elements, ending with 50 live", "bytes", stateBytes, peerName, theirs.StateBytes, lowerIsBetter: true,
                    note: "Automerge save() keeps the history; ours keeps live dots + a compacted context");
            }
        }

        foreach ((string workload, OurResult ours) in results.Select(r => (r.Workload, r.Ours)).Where(r => setStateBytes.ContainsKey(r.Workload)))
        {
            report.Figure($"{workload}: state after {operations:N0} ops over 100 elements, ending with 50 live", "bytes", ours.StateBytes, "50 live elements; the same size as after fewer cycles (bounded)");
        }

        report.Note($"Each workload: {operations:N0} operations on replica A (Automerge: {peerOperations:N0}), each delta encoded, then decoded and merged one at a time into replica B " +
            "(Automerge: A.change per op, A.getLastLocalChange, A.applyChanges one change at a time). Sets alternate 100 adds and 100 removes " +
            "over 100 elements, ending with 50 live (Automerge: a map used as a set); the LWW map writes 1,000 keys round-robin. Latency is per delta, p50/p99.");
    }

    private static bool SetPhaseAdds(int i) => i / 100 % 2 == 0;

    private static string SetElement(int i) => "e" + (i % 100);

    private static OurResult Measure<T>(int operations, Func<T> create, Func<T, int, T> operation, Func<byte[], T> decode)
        where T : IDeltaCrdt<T>
    {
        T source = create();
        var deltas = new byte[operations][];
        var deltaSizes = new double[operations];
        for (int i = 0; i < operations; i++)
        {
            deltas[i] = Encode(operation(source, i));
            deltaSizes[i] = deltas[i].Length;
        }

        T warm = create();
        for (int i = 0; i < operations; i++)
        {
            warm.Merge(decode(deltas[i]));
        }

        T target = create();
        long started = Stopwatch.GetTimestamp();
        foreach (byte[] delta in deltas)
        {
            target.Merge(decode(delta));
        }

        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        T timed = create();
        var latency = new LatencyRecorder(operations);
        foreach (byte[] delta in deltas)
        {
            long start = LatencyRecorder.Start();
            timed.Merge(decode(delta));
            latency.Stop(start);
        }

        if (!target.StateEquals(source) || !timed.StateEquals(source))
        {
            throw new InvalidOperationException($"{typeof(T).Name}: the replica that merged every delta differs from the source");
        }

        Array.Sort(deltaSizes);
        return new OurResult(operations / seconds, latency.P50.TotalMicroseconds, latency.P99.TotalMicroseconds, deltaSizes[deltaSizes.Length / 2], Encode(target).Length);
    }

    private static int StateBytesAfter<T>(int operations, Func<T> create, Func<T, int, T> operation)
        where T : IDeltaCrdt<T>
    {
        T state = create();
        for (int i = 0; i < operations; i++)
        {
            operation(state, i);
        }

        return Encode(state).Length;
    }

    private static byte[] Encode<T>(T crdt)
        where T : IDeltaCrdt<T> => CrdtEncoding.ToArray(crdt);

    private sealed record OurResult(double Throughput, double P50Microseconds, double P99Microseconds, double DeltaBytes, double StateBytes);
}
