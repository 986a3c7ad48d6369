using CortexEdge.Core.Vectors;

namespace CortexEdge.Core.Tests.Vectors;

/// <summary>
/// recall@10 against exact brute force on seeded clustered data (Gaussian mixtures whose clusters
/// overlap: spread 1 around centers drawn from N(0, 1)). The bounds are the figures docs/vectors.md
/// states, with a margin for seed-to-seed variation (measured: flat 1.000, sign-code pass 1.000,
/// partitioned at default nprobe 0.99-1.00, nprobe 1 about 0.67).
/// </summary>
public sealed class VectorRecallTests : IDisposable
{
    private const int K = 10;
    private readonly VectorTestData.TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(VectorMetric.L2, 0f)]
    [InlineData(VectorMetric.L2, 20f)] // a large common offset: residual quantization must absorb it
    [InlineData(VectorMetric.Cosine, 0f)]
    [InlineData(VectorMetric.Dot, 0f)]
    public void Flat_Int8WithRescoring_RecallAtLeast099(VectorMetric metric, float offset)
    {
        double recall = MeasureRecall(metric, count: 8000, dimension: 64, clusters: 32, spread: 1.0f, offset,
            new VectorCollectionOptions { Dimension = 64, Metric = metric }, search: null, out int seed, out VectorCollectionStatistics stats);
        Assert.Equal(1, stats.PartitionCount);
        Assert.True(recall >= 0.99, $"seed {seed}, {metric}, offset {offset}: flat recall@10 {recall:0.000} < 0.99");
    }

    [Fact]
    public void Flat_SignCodeFirstPass_RecallAtLeast097()
    {
        var options = new VectorCollectionOptions { Dimension = 384, Metric = VectorMetric.Cosine, SignCodes = VectorSignCodeMode.Enabled };
        double recall = MeasureRecall(VectorMetric.Cosine, count: 6000, dimension: 384, clusters: 24, spread: 1.5f, 0f, options, search: null, out int seed, out VectorCollectionStatistics stats);
        Assert.True(stats.SignCodes);
        Assert.True(recall >= 0.97, $"seed {seed}: sign-code first pass recall@10 {recall:0.000} < 0.97");
    }

    [Theory]
    [InlineData(VectorMetric.L2)]
    [InlineData(VectorMetric.Cosine)]
    public void Partitioned_DefaultNprobe_RecallAtLeast095(VectorMetric metric)
    {
        var options = new VectorCollectionOptions { Dimension = 32, Metric = metric, PartitionThreshold = 10_000 };
        double recall = MeasureRecall(metric, count: 40_000, dimension: 32, clusters: 64, spread: 1.0f, 0f, options, search: null, out int seed, out VectorCollectionStatistics stats);
        Assert.True(stats.PartitionCount > 100, $"seed {seed}: {stats.PartitionCount} partitions");
        Assert.True(recall >= 0.95, $"seed {seed}, {metric}: partitioned recall@10 {recall:0.000} < 0.95 (nprobe {stats.DefaultNprobe} of {stats.PartitionCount})");
    }

    [Fact]
    public void Partitioned_MoreProbes_NeverLowerRecall()
    {
        var options = new VectorCollectionOptions { Dimension = 32, Metric = VectorMetric.L2, PartitionThreshold = 5_000 };
        double low = MeasureRecall(VectorMetric.L2, 20_000, 32, 64, 1.0f, 0f, options, new VectorSearchOptions { Nprobe = 1 }, out int seed, out _);
        double high = MeasureRecall(VectorMetric.L2, 20_000, 32, 64, 1.0f, 0f, options, new VectorSearchOptions { Nprobe = 40 }, out _, out _, seed);
        Assert.True(high > low && high >= 0.97, $"seed {seed}: recall nprobe=1 {low:0.000}, nprobe=40 {high:0.000}");
    }

    [Theory]
    [InlineData(VectorMetric.L2)]
    [InlineData(VectorMetric.Cosine)]
    [InlineData(VectorMetric.Dot)]
    public void Search_ScalarVector128AndNativeInt8Paths_ReturnIdenticalResults(VectorMetric metric)
    {
        // Integer dots are exact on every path, so the whole search (estimates, heap, rescoring) must
        // come out identical; 3000 x 100 exercises the chunked scan with a non-multiple-of-4 tail.
        int seed = VectorTestData.Seed();
        var random = new Random(seed);
        const int Dimension = 100, Count = 3003;
        float[] points = VectorTestData.GaussianMixture(random, Count + 20, Dimension, 16, 1.0f);
        using VectorCollection collection = VectorCollection.Create("paths", _directory.File($"p{Guid.NewGuid():N}.vec"), new VectorCollectionOptions { Dimension = Dimension, Metric = metric });
        for (int i = 0; i < Count; i++)
        {
            collection.Upsert($"{i}", points.AsSpan(i * Dimension, Dimension), "k");
        }

        VectorKernelPath[] paths = [VectorKernelPath.Scalar, VectorKernelPath.Vector128, VectorKernelPaths.BestInt8];
        for (int q = 0; q < 20; q++)
        {
            ReadOnlySpan<float> query = points.AsSpan((Count + q) * Dimension, Dimension);
            VectorMatch[] reference = collection.Search(query, K, new VectorSearchOptions { Int8Path = VectorKernelPath.Scalar, MaxDegreeOfParallelism = 1 });
            Assert.Equal(K, reference.Length);
            foreach (VectorKernelPath path in paths)
            {
                VectorMatch[] matches = collection.Search(query, K, new VectorSearchOptions { Int8Path = path, MaxDegreeOfParallelism = 1 });
                Assert.True(reference.SequenceEqual(matches), $"seed {seed}, {metric}, query {q}: {path} differs from scalar");
            }
        }
    }

    private double MeasureRecall(
        VectorMetric metric, int count, int dimension, int clusters, float spread, float offset,
        VectorCollectionOptions options, VectorSearchOptions? search, out int seed, out VectorCollectionStatistics stats, int? fixedSeed = null)
    {
        seed = fixedSeed ?? VectorTestData.Seed();
        var random = new Random(seed);
        float[] points = VectorTestData.GaussianMixture(random, count + 100, dimension, clusters, spread, offset);
        using VectorCollection collection = VectorCollection.Create("recall", _directory.File($"r{Guid.NewGuid():N}.vec"), options);
        for (int i = 0; i < count; i++)
        {
            collection.Upsert($"{i}", points.AsSpan(i * dimension, dimension), "k");
        }

        float[] data = points.AsSpan(0, count * dimension).ToArray();
        int found = 0;
        const int queries = 100;
        for (int q = 0; q < queries; q++)
        {
            ReadOnlySpan<float> query = points.AsSpan((count + q) * dimension, dimension);
            var truth = new HashSet<int>(VectorTestData.BruteForce(metric, data, dimension, query, K));
            found += collection.Search(query, K, search).Count(m => truth.Contains(int.Parse(m.Id)));
        }

        stats = collection.GetStatistics();
        return found / (double)(queries * K);
    }
}
