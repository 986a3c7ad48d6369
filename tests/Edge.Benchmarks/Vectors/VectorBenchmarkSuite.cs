using System.Diagnostics;
using System.Text.Json;
using CortexEdge.Benchmarks.Harness;
using CortexEdge.Core.Vectors;

namespace CortexEdge.Benchmarks.Vectors;

/// <summary>
/// Vector search: CortexEdge's int8 index (flat and partitioned) against exact float32 brute force
/// and the HNSW indexes usearch and hnswlib-node (npm, in $CE_BENCH_PEERS), all over the same seeded
/// clustered data in the same run: recall@10, per-query p50/p99, queries/s, build time, memory.
/// Also the throughput of each distance-kernel path.
/// </summary>
public sealed class VectorBenchmarkSuite : BenchmarkSuite
{
    private const int QueryCount = 300;
    private const int WarmupQueries = 20;

    /// <inheritdoc/>
    public override string Name => "vectors";

    /// <inheritdoc/>
    public override string Title => "Vector search: int8 quantized index vs exact scan and HNSW peers";

    /// <inheritdoc/>
    public override async Task RunAsync(BenchmarkReport report, double scale, CancellationToken cancellationToken)
    {
        KernelThroughput(report, 128);
        KernelThroughput(report, 768);
        string directory = Path.Combine(Path.GetTempPath(), "ce-bench-vectors-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        try
        {
            // The sizes at scale 1: 1M x 128 and 100k x 384. CE_BENCH_VECTORS_SCALE overrides the
            // scale for these data sets alone (the 1M set with both HNSW peers takes several minutes).
            double dataScale = double.TryParse(Environment.GetEnvironmentVariable("CE_BENCH_VECTORS_SCALE"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double overridden)
                ? overridden
                : scale;
            int large = Math.Max(2_000, (int)(1_000_000 * dataScale));
            int wide = Math.Max(1_000, (int)(100_000 * dataScale));
            // CE_BENCH_VECTORS_SETS (for example "384") runs only the listed dimensions' data sets.
            string sets = Environment.GetEnvironmentVariable("CE_BENCH_VECTORS_SETS") ?? "128,384";
            if (sets.Split(',').Contains("128"))
            {
                await RunDataSetAsync(report, VectorDataSet.Generate($"{Thousands(large)} x 128 L2", large, QueryCount, 128, 100, VectorMetric.L2, seed: 128), directory, cancellationToken);
            }

            if (sets.Split(',').Contains("384"))
            {
                await RunDataSetAsync(report, VectorDataSet.Generate($"{Thousands(wide)} x 384 cosine", wide, QueryCount, 384, 50, VectorMetric.Cosine, seed: 384), directory, cancellationToken);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        report.Note(
            "Vector data: seeded Gaussian mixtures (100 clusters for 128-d, 50 for 384-d, three cluster widths), " +
            $"{QueryCount} queries from the same mixture, ground truth by exact float32 brute force. Latencies are single-query, " +
            "single-thread, p50/p99 of per-query samples; peers time their own queries inside node. Memory: for CortexEdge the " +
            "growth of anonymous RSS across the build (the float32 vectors sit in a memory-mapped file, reclaimable page cache, " +
            "reported separately); for peers the growth of the node process RSS across the build; for the exact scan the float32 array. " +
            "Peers: usearch (HNSW, connectivity 16, default expansion), hnswlib-node (M 16, efConstruction 100, ef 64).");
    }

    private static async Task RunDataSetAsync(BenchmarkReport report, VectorDataSet data, string directory, CancellationToken cancellationToken)
    {
        Console.WriteLine($"  data set {data.Label}: generating ground truth");
        data.Prepare(directory);
        string label = data.Label;

        // Baseline: exact float32 scan over a heap array (what an application without an index does).
        var exactLatency = new LatencyRecorder(data.QueryCount);
        for (int q = 0; q < WarmupQueries; q++)
        {
            data.ExactTopK(data.Query(q));
        }

        long exactStart = Stopwatch.GetTimestamp();
        for (int q = 0; q < data.QueryCount; q++)
        {
            long start = LatencyRecorder.Start();
            data.ExactTopK(data.Query(q));
            exactLatency.Stop(start);
        }

        double exactQps = data.QueryCount / Stopwatch.GetElapsedTime(exactStart).TotalSeconds;
        double exactBytesPerVector = data.Dimension * sizeof(float);

        OurRun flat = RunOurs(data, directory, partitioned: false);
        OurRun partitioned = RunOurs(data, directory, partitioned: true);

        report.Compare($"{label}: recall@10, flat int8+rescore", "", flat.Recall, "exact float32 scan", 1.0, lowerIsBetter: false);
        report.Compare($"{label}: query p50, flat (1 thread)", "ms", Ms(flat.Latency.P50), "exact float32 scan", Ms(exactLatency.P50), lowerIsBetter: true);
        report.Compare($"{label}: query p99, flat (1 thread)", "ms", Ms(flat.Latency.P99), "exact float32 scan", Ms(exactLatency.P99), lowerIsBetter: true);
        report.Compare($"{label}: queries/s, flat (1 thread)", "q/s", flat.Qps, "exact float32 scan", exactQps, lowerIsBetter: false);
        report.Compare($"{label}: memory per vector, flat", "B", flat.AnonymousBytesPerVector, "exact float32 scan", exactBytesPerVector, lowerIsBetter: true,
            $"managed index arrays {flat.IndexBytesPerVector:0} B/vector; float32 file {flat.FileBytesPerVector:0} B/vector mapped");
        report.Compare($"{label}: open from the index file, flat", "s", flat.OpenSeconds, "build by upserts", flat.BuildSeconds, lowerIsBetter: true,
            $"map + CRC-32C check + load of the .idx file (page cache warm); saving it took {flat.SaveSeconds:0.000} s");
        report.Compare($"{label}: open from the index file, partitioned", "s", partitioned.OpenSeconds, "build by upserts", partitioned.BuildSeconds, lowerIsBetter: true,
            $"saving it took {partitioned.SaveSeconds:0.000} s");
        report.Figure($"{label}: query p50, flat, one query on all cores", "ms", Ms(flat.ParallelLatency.P50), $"p99 {Ms(flat.ParallelLatency.P99):0.000} ms");
        report.Figure($"{label}: queries/s, flat, all cores", "q/s", flat.AllCoresQps, $"{Environment.ProcessorCount} concurrent single-thread queries");
        report.Figure($"{label}: recall@10, partitioned", "", partitioned.Recall, $"{partitioned.Statistics.PartitionCount} partitions, nprobe {partitioned.Statistics.DefaultNprobe}");
        report.Figure($"{label}: queries/s, partitioned, all cores", "q/s", partitioned.AllCoresQps, $"{Environment.ProcessorCount} concurrent single-thread queries");
        foreach ((int nprobe, double recall, double qps, LatencyRecorder sweepLatency) in partitioned.NprobeSweep)
        {
            report.Figure($"{label}: partitioned nprobe {nprobe}: recall@10 {recall:0.000}", "q/s", qps, $"1 thread; p50 {Ms(sweepLatency.P50):0.000} ms, p99 {Ms(sweepLatency.P99):0.000} ms");
        }


        foreach (string peer in new[] { "usearch", "hnswlib" })
        {
            (PeerResult Result, double Recall)? measured = await RunPeerAsync(peer, data, directory, cancellationToken);
            if (measured is not { } peerRun)
            {
                report.Note($"{label}: peer {peer} did not run (node or the npm package missing from CE_BENCH_PEERS); its rows are absent.");
                continue;
            }

            var peerLatency = new LatencyRecorder(peerRun.Result.LatenciesUs.Length);
            foreach (double us in peerRun.Result.LatenciesUs)
            {
                peerLatency.Add(TimeSpan.FromTicks((long)(us * 10)));
            }

            double peerQps = peerRun.Result.LatenciesUs.Length / (peerRun.Result.LatenciesUs.Sum() / 1e6);
            double peerBytes = (peerRun.Result.RssAfterBuild - peerRun.Result.RssBeforeBuild) / (double)data.Count;
            report.Compare($"{label}: recall@10, partitioned", "", partitioned.Recall, peer, peerRun.Recall, lowerIsBetter: false);
            report.Compare($"{label}: query p50, partitioned (1 thread)", "ms", Ms(partitioned.Latency.P50), peer, Ms(peerLatency.P50), lowerIsBetter: true);
            report.Compare($"{label}: query p99, partitioned (1 thread)", "ms", Ms(partitioned.Latency.P99), peer, Ms(peerLatency.P99), lowerIsBetter: true);
            report.Compare($"{label}: queries/s, partitioned (1 thread)", "q/s", partitioned.Qps, peer, peerQps, lowerIsBetter: false);
            // The same recall: the fewest probes whose recall reaches the peer's.
            if (partitioned.NprobeSweep.FirstOrDefault(p => p.Recall >= peerRun.Recall) is { Latency: not null } matched)
            {
                report.Compare($"{label}: queries/s at the peer's recall (ours nprobe {matched.Nprobe}, recall {matched.Recall:0.000})", "q/s", matched.Qps, peer, peerQps, lowerIsBetter: false,
                    $"peer recall {peerRun.Recall:0.000}");
                report.Compare($"{label}: query p99 at the peer's recall (ours nprobe {matched.Nprobe})", "ms", Ms(matched.Latency.P99), peer, Ms(peerLatency.P99), lowerIsBetter: true);
            }

            report.Compare($"{label}: recall@10, flat int8+rescore", "", flat.Recall, peer, peerRun.Recall, lowerIsBetter: false);
            report.Compare($"{label}: build time, partitioned", "s", partitioned.BuildSeconds, peer, peerRun.Result.BuildMs / 1000, lowerIsBetter: true,
                "ours: one upsert at a time incl. k-means retraining; peer: its bulk add");
            report.Compare($"{label}: memory per vector, partitioned", "B", partitioned.AnonymousBytesPerVector, peer, peerBytes, lowerIsBetter: true,
                "ours excludes the mapped float32 file, which the peers keep in RAM inside their graphs");
        }
    }

    private static OurRun RunOurs(VectorDataSet data, string directory, bool partitioned)
    {
        string kind = partitioned ? "partitioned" : "flat";
        Console.WriteLine($"  data set {data.Label}: CortexEdge {kind}");
        var options = new VectorCollectionOptions
        {
            Dimension = data.Dimension,
            Metric = data.Metric,
            PartitionThreshold = partitioned ? Math.Min(20_000, data.Count / 2) : int.MaxValue,
        };
        (long anonymousBefore, _) = ProcessMemory.Settle();
        long buildStart = Stopwatch.GetTimestamp();
        string vectorPath = Path.Combine(directory, $"{kind}-{data.Dimension}.vec");
        VectorCollection collection = VectorCollection.Create(kind, vectorPath, options);
        string[] ids = new string[data.Count];
        for (int i = 0; i < data.Count; i++)
        {
            ids[i] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            collection.Upsert(ids[i], data.Point(i), ids[i]);
        }

        double buildSeconds = Stopwatch.GetElapsedTime(buildStart).TotalSeconds;
        (long anonymousAfter, _) = ProcessMemory.Settle();
        VectorCollectionStatistics statistics = collection.GetStatistics();
        // The id strings and the array holding them are the caller's (the peers get integer keys): count
        // them out of our growth. A string is a 20-byte header and length, its UTF-16 chars and a null
        // char, in a heap object aligned to 8 bytes.
        long idBytes = ids.Sum(id => (22L + (2L * id.Length) + 7) & ~7L) + (8L * ids.Length);

        var single = new VectorSearchOptions { MaxDegreeOfParallelism = 1 };
        var parallel = new VectorSearchOptions { MaxDegreeOfParallelism = -1 };
        for (int q = 0; q < WarmupQueries; q++)
        {
            collection.Search(data.Query(q), VectorDataSet.K, single);
            collection.Search(data.Query(q), VectorDataSet.K, parallel);
        }

        int[] found = new int[data.QueryCount * VectorDataSet.K];
        Array.Fill(found, -1);
        var latency = new LatencyRecorder(data.QueryCount);
        long start = Stopwatch.GetTimestamp();
        for (int q = 0; q < data.QueryCount; q++)
        {
            long t = LatencyRecorder.Start();
            VectorMatch[] matches = collection.Search(data.Query(q), VectorDataSet.K, single);
            latency.Stop(t);
            for (int i = 0; i < matches.Length; i++)
            {
                found[(q * VectorDataSet.K) + i] = int.Parse(matches[i].Id, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        double qps = data.QueryCount / Stopwatch.GetElapsedTime(start).TotalSeconds;
        var parallelLatency = new LatencyRecorder(data.QueryCount);
        for (int q = 0; q < data.QueryCount; q++)
        {
            long t = LatencyRecorder.Start();
            collection.Search(data.Query(q), VectorDataSet.K, parallel);
            parallelLatency.Stop(t);
        }

        start = Stopwatch.GetTimestamp();
        Parallel.For(0, data.QueryCount, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, q =>
            collection.Search(data.Query(q), VectorDataSet.K, single));
        double allCoresQps = data.QueryCount / Stopwatch.GetElapsedTime(start).TotalSeconds;

        var sweep = new List<(int Nprobe, double Recall, double Qps, LatencyRecorder Latency)>();
        if (partitioned)
        {
            foreach (int nprobe in new[] { 1, 2, 4, 6, 8, 12, 16, 24, 32 })
            {
                if (nprobe > statistics.PartitionCount)
                {
                    break;
                }

                var probeOptions = new VectorSearchOptions { MaxDegreeOfParallelism = 1, Nprobe = nprobe };
                int[] probeFound = new int[data.QueryCount * VectorDataSet.K];
                Array.Fill(probeFound, -1);
                var probeLatency = new LatencyRecorder(data.QueryCount);
                long probeStart = Stopwatch.GetTimestamp();
                for (int q = 0; q < data.QueryCount; q++)
                {
                    long t = LatencyRecorder.Start();
                    VectorMatch[] matches = collection.Search(data.Query(q), VectorDataSet.K, probeOptions);
                    probeLatency.Stop(t);
                    for (int i = 0; i < matches.Length; i++)
                    {
                        probeFound[(q * VectorDataSet.K) + i] = int.Parse(matches[i].Id, System.Globalization.CultureInfo.InvariantCulture);
                    }
                }

                sweep.Add((nprobe, data.Recall(probeFound), data.QueryCount / Stopwatch.GetElapsedTime(probeStart).TotalSeconds, probeLatency));
            }
        }

        // Reopen: save the index file, close, map it again.
        string indexPath = Path.ChangeExtension(vectorPath, VectorCollection.IndexFileExtension);
        long saveStart = Stopwatch.GetTimestamp();
        collection.SaveIndexFile(indexPath, new Dictionary<string, CortexEdge.Core.Clocks.HlcTimestamp>(), stateLsn: 0);
        double saveSeconds = Stopwatch.GetElapsedTime(saveStart).TotalSeconds;
        collection.Dispose();
        long openStart = Stopwatch.GetTimestamp();
        using (VectorCollection? reopened = VectorCollection.TryOpen(kind, vectorPath, indexPath, options, 0, out _, out CortexEdge.Core.EdgeCorruptionException? problem))
        {
            double openSeconds = Stopwatch.GetElapsedTime(openStart).TotalSeconds;
            if (reopened is null || reopened.Count != data.Count)
            {
                throw new InvalidOperationException($"the saved index did not reopen: {problem?.Message}");
            }

            File.Delete(indexPath);
            File.Delete(vectorPath);
            return new OurRun(
                data.Recall(found), latency, parallelLatency, qps, allCoresQps, buildSeconds, saveSeconds, openSeconds,
            Math.Max(0, anonymousAfter - anonymousBefore - idBytes) / (double)data.Count,
            statistics.IndexBytes / (double)data.Count,
            (statistics.FileBytes - VectorFile.HeaderBytes) / (double)data.Count,
            statistics,
            sweep);
        }
    }

    private static string Thousands(int count) => count >= 1_000_000 && count % 1_000_000 == 0 ? $"{count / 1_000_000}M" : $"{count / 1000}k";

    private static async Task<(PeerResult Result, double Recall)?> RunPeerAsync(string peer, VectorDataSet data, string directory, CancellationToken cancellationToken)
    {
        string? peers = Environment.GetEnvironmentVariable("CE_BENCH_PEERS");
        string? scripts = FindScripts();
        if (peers is null || scripts is null || !Directory.Exists(Path.Combine(peers, "node_modules", peer == "hnswlib" ? "hnswlib-node" : peer)))
        {
            return null;
        }

        Console.WriteLine($"  data set {data.Label}: {peer}");
        string output = Path.Combine(directory, $"{peer}-{data.Dimension}.i32");
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--expose-gc");
        start.ArgumentList.Add(Path.Combine(scripts, $"{peer}.js"));
        foreach (string argument in new[]
        {
            data.BaseFile, data.QueryFile, data.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            data.QueryCount.ToString(System.Globalization.CultureInfo.InvariantCulture), data.Dimension.ToString(System.Globalization.CultureInfo.InvariantCulture),
            data.Metric == VectorMetric.Cosine ? "cos" : "l2", VectorDataSet.K.ToString(System.Globalization.CultureInfo.InvariantCulture), output,
        })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NODE_PATH"] = Path.Combine(peers, "node_modules");
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            Console.WriteLine($"  {peer} failed ({process.ExitCode}): {await stderr}");
            return null;
        }

        string line = (await stdout).Trim().Split('\n')[^1];
        PeerResult result = JsonSerializer.Deserialize(line, PeerResultJsonContext.Default.PeerResult)
            ?? throw new InvalidDataException($"{peer} printed no result");
        byte[] ids = await File.ReadAllBytesAsync(output, cancellationToken);
        int[] found = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(ids).ToArray();
        return (result, data.Recall(found));
    }

    private static string? FindScripts()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "Edge.Benchmarks", "Vectors", "peers");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static void KernelThroughput(BenchmarkReport report, int dimension)
    {
        const int rows = 4096;
        var random = new Random(dimension);
        sbyte[] codes = new sbyte[rows * dimension];
        float[] floats = new float[rows * dimension];
        int words = ScalarQuantizer.SignWordCount(dimension);
        ulong[] signs = new ulong[rows * words];
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] = (sbyte)random.Next(-127, 128);
            floats[i] = (float)random.NextDouble();
        }

        for (int i = 0; i < signs.Length; i++)
        {
            signs[i] = (ulong)random.NextInt64();
        }

        double scalarInt8 = Throughput(rows, r => Int8Kernels.Dot(codes.AsSpan(0, dimension), codes.AsSpan(r * dimension, dimension), VectorKernelPath.Scalar));
        double scalarFloat = Throughput(rows, r => (int)FloatKernels.Dot(floats.AsSpan(0, dimension), floats.AsSpan(r * dimension, dimension), VectorKernelPath.Scalar));
        double scalarHamming = Throughput(rows, r => BinaryKernels.Hamming(signs.AsSpan(0, words), signs.AsSpan(r * words, words), VectorKernelPath.Scalar));
        report.Figure($"kernel {dimension}-d int8 dot, scalar", "M/s", scalarInt8, "distances per second, one core");
        report.Figure($"kernel {dimension}-d float32 dot, scalar", "M/s", scalarFloat, "distances per second, one core");
        report.Figure($"kernel {dimension}-d sign-code Hamming, scalar POPCNT", "M/s", scalarHamming, "distances per second, one core");
        foreach (VectorKernelPath path in new[] { VectorKernelPath.Vector128, VectorKernelPath.Vector256, VectorKernelPath.Arm64, VectorKernelPath.X64 })
        {
            if (VectorKernelPaths.IsSupported(path))
            {
                double int8 = Throughput(rows, r => Int8Kernels.Dot(codes.AsSpan(0, dimension), codes.AsSpan(r * dimension, dimension), path));
                report.Compare($"kernel {dimension}-d int8 dot, {path}", "M/s", int8, "scalar path", scalarInt8, lowerIsBetter: false);
            }

            if (VectorKernelPaths.IsSupported(path) && path != VectorKernelPath.X64)
            {
                double f32 = Throughput(rows, r => (int)FloatKernels.Dot(floats.AsSpan(0, dimension), floats.AsSpan(r * dimension, dimension), path));
                report.Compare($"kernel {dimension}-d float32 dot, {path}", "M/s", f32, "scalar path", scalarFloat, lowerIsBetter: false);
                double hamming = Throughput(rows, r => BinaryKernels.Hamming(signs.AsSpan(0, words), signs.AsSpan(r * words, words), path));
                report.Compare($"kernel {dimension}-d sign-code Hamming, {path}", "M/s", hamming, "scalar POPCNT", scalarHamming, lowerIsBetter: false);
            }
        }

        // The scan's kernel: one query against 64 consecutive rows per call (four rows per pass).
        const int Chunk = 64;
        int[] dots = new int[Chunk];
        foreach (VectorKernelPath path in new[] { VectorKernelPath.Scalar, VectorKernelPath.Vector128, VectorKernelPaths.BestInt8 })
        {
            double single = Throughput(rows, r => Int8Kernels.Dot(codes.AsSpan(0, dimension), codes.AsSpan(r * dimension, dimension), path));
            double multi = Chunk * Throughput(rows / Chunk, r =>
            {
                Int8Kernels.DotRows(codes.AsSpan(0, dimension), codes.AsSpan(r * Chunk * dimension, Chunk * dimension), dots, path);
                return dots[0];
            });
            report.Compare($"kernel {dimension}-d int8 DotRows (64 rows per call), {path}", "M/s", multi, "one Dot call per row", single, lowerIsBetter: false);
        }

        double best = Throughput(rows, r => Int8Kernels.Dot(codes.AsSpan(0, dimension), codes.AsSpan(r * dimension, dimension)));
        report.Compare($"kernel {dimension}-d int8 dot (best path {VectorKernelPaths.BestInt8}) vs float32 dot (best path)", "M/s", best, "float32 best path",
            Throughput(rows, r => (int)FloatKernels.Dot(floats.AsSpan(0, dimension), floats.AsSpan(r * dimension, dimension))), lowerIsBetter: false);
    }

    /// <summary>Millions of kernel calls per second over <paramref name="rows"/> rows, best of 5 passes of about 50 ms.</summary>
    private static double Throughput(int rows, Func<int, int> kernel)
    {
        int sink = 0;
        long calls = 0;
        long begin = Stopwatch.GetTimestamp();
        // 300 ms of warm-up: long enough for tiered compilation to swap in optimized code.
        while (Stopwatch.GetElapsedTime(begin).TotalMilliseconds < 300)
        {
            for (int r = 0; r < rows; r++)
            {
                sink += kernel(r);
            }

            calls += rows;
        }

        double best = 0;
        long passCalls = Math.Max(rows, calls * 50 / 300 / rows * rows);
        for (int pass = 0; pass < 5; pass++)
        {
            long start = Stopwatch.GetTimestamp();
            for (long c = 0; c < passCalls; c += rows)
            {
                for (int r = 0; r < rows; r++)
                {
                    sink += kernel(r);
                }
            }

            best = Math.Max(best, passCalls / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e6);
        }

        GC.KeepAlive(sink);
        return best;
    }

    private static double Ms(TimeSpan value) => value.TotalMilliseconds;

    private sealed record OurRun(
        double Recall,
        LatencyRecorder Latency,
        LatencyRecorder ParallelLatency,
        double Qps,
        double AllCoresQps,
        double BuildSeconds,
        double SaveSeconds,
        double OpenSeconds,
        double AnonymousBytesPerVector,
        double IndexBytesPerVector,
        double FileBytesPerVector,
        VectorCollectionStatistics Statistics,
        List<(int Nprobe, double Recall, double Qps, LatencyRecorder Latency)> NprobeSweep);
}
