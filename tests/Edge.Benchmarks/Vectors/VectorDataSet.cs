using CortexEdge.Core.Vectors;

namespace CortexEdge.Benchmarks.Vectors;

/// <summary>
/// A seeded clustered data set (Gaussian mixture), its queries drawn from the same mixture, the exact
/// top-k of every query, and the raw little-endian float32 files the peer scripts read.
/// </summary>
internal sealed class VectorDataSet
{
    internal const int K = 10;

    private VectorDataSet(string label, int count, int queryCount, int dimension, VectorMetric metric, float[] points, float[] queries)
    {
        Label = label;
        Count = count;
        QueryCount = queryCount;
        Dimension = dimension;
        Metric = metric;
        Points = points;
        Queries = queries;
    }

    internal string Label { get; }

    internal int Count { get; }

    internal int QueryCount { get; }

    internal int Dimension { get; }

    internal VectorMetric Metric { get; }

    internal float[] Points { get; }

    internal float[] Queries { get; }

    internal int[] Truth { get; private set; } = [];

    internal string BaseFile { get; private set; } = "";

    internal string QueryFile { get; private set; } = "";

    internal ReadOnlySpan<float> Point(int index) => Points.AsSpan(index * Dimension, Dimension);

    internal ReadOnlySpan<float> Query(int index) => Queries.AsSpan(index * Dimension, Dimension);

    internal static VectorDataSet Generate(string label, int count, int queryCount, int dimension, int clusters, VectorMetric metric, int seed)
    {
        var random = new Random(seed);
        float[] centers = new float[clusters * dimension];
        for (int i = 0; i < centers.Length; i++)
        {
            centers[i] = Gaussian(random);
        }

        float[] Draw(int rows)
        {
            float[] data = new float[rows * dimension];
            for (int i = 0; i < rows; i++)
            {
                int c = random.Next(clusters);
                float spread = 0.25f + (0.25f * (c % 3)); // clusters of different widths
                for (int d = 0; d < dimension; d++)
                {
                    data[(i * dimension) + d] = centers[(c * dimension) + d] + (spread * Gaussian(random));
                }
            }

            return data;
        }

        return new VectorDataSet(label, count, queryCount, dimension, metric, Draw(count), Draw(queryCount));
    }

    /// <summary>Computes the exact top-k of every query (all cores) and writes the peer files into <paramref name="directory"/>.</summary>
    internal void Prepare(string directory)
    {
        Truth = new int[QueryCount * K];
        Parallel.For(0, QueryCount, q =>
        {
            int[] top = ExactTopK(Query(q));
            top.CopyTo(Truth, q * K);
        });
        BaseFile = Path.Combine(directory, $"{Dimension}-base.f32");
        QueryFile = Path.Combine(directory, $"{Dimension}-queries.f32");
        File.WriteAllBytes(BaseFile, System.Runtime.InteropServices.MemoryMarshal.AsBytes(Points.AsSpan()).ToArray());
        File.WriteAllBytes(QueryFile, System.Runtime.InteropServices.MemoryMarshal.AsBytes(Queries.AsSpan()).ToArray());
    }

    /// <summary>Exact float32 brute force: the baseline every approximate index is measured against.</summary>
    internal int[] ExactTopK(ReadOnlySpan<float> query)
    {
        var heap = new CandidateHeap(K);
        try
        {
            for (int i = 0; i < Count; i++)
            {
                float distance = Distance(query, Point(i));
                if (distance < heap.Threshold)
                {
                    heap.Push(distance, i);
                }
            }

            var top = new (float Distance, int Index)[heap.Count];
            for (int i = 0; i < top.Length; i++)
            {
                top[i] = (heap.DistanceAt(i), heap.ItemAt(i));
            }

            Array.Sort(top);
            return top.Select(t => t.Index).ToArray();
        }
        finally
        {
            heap.Return();
        }
    }

    internal float Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Metric switch
    {
        VectorMetric.Cosine => FloatKernels.CosineDistance(a, b),
        VectorMetric.Dot => -FloatKernels.Dot(a, b),
        _ => FloatKernels.SquaredL2(a, b),
    };

    /// <summary>Fraction of the exact top-k found, over all queries; <paramref name="found"/> holds K ids per query (-1 = none).</summary>
    internal double Recall(int[] found)
    {
        int hits = 0;
        for (int q = 0; q < QueryCount; q++)
        {
            ReadOnlySpan<int> truth = Truth.AsSpan(q * K, K);
            foreach (int id in found.AsSpan(q * K, K))
            {
                if (id >= 0 && truth.Contains(id))
                {
                    hits++;
                }
            }
        }

        return hits / (double)(QueryCount * K);
    }

    private static float Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }
}
