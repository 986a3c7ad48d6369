using CortexEdge.Core.Vectors;

namespace CortexEdge.Core.Tests.Vectors;

/// <summary>Seeded data for the vector tests: seeds replayable from CE_TEST_SEED, Gaussian mixtures, exact search.</summary>
internal static class VectorTestData
{
    /// <summary>CE_TEST_SEED when set, otherwise a fresh seed; tests put it in their assertion messages.</summary>
    internal static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("CE_TEST_SEED"), out int seed) ? seed : Random.Shared.Next();

    /// <summary>
    /// <paramref name="count"/> points of <paramref name="dimension"/> drawn from a mixture of
    /// <paramref name="clusters"/> Gaussians (centers ~ N(0, 1) per component plus a common offset, spread
    /// <paramref name="spread"/>), row-major.
    /// </summary>
    internal static float[] GaussianMixture(Random random, int count, int dimension, int clusters, float spread, float offset = 0f)
    {
        float[] centers = new float[clusters * dimension];
        for (int i = 0; i < centers.Length; i++)
        {
            centers[i] = Gaussian(random) + offset;
        }

        float[] points = new float[count * dimension];
        for (int i = 0; i < count; i++)
        {
            int c = random.Next(clusters);
            for (int d = 0; d < dimension; d++)
            {
                points[(i * dimension) + d] = centers[(c * dimension) + d] + (spread * Gaussian(random));
            }
        }

        return points;
    }

    internal static float Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    /// <summary>Exact distance in double precision, independent of the kernels under test.</summary>
    internal static double ExactDistance(VectorMetric metric, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, aa = 0, bb = 0, l2 = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
            double d = (double)a[i] - b[i];
            l2 += d * d;
        }

        return metric switch
        {
            VectorMetric.Cosine => 1.0 - (dot / Math.Sqrt(aa * bb)),
            VectorMetric.Dot => -dot,
            _ => l2,
        };
    }

    /// <summary>Indexes of the k nearest rows by exact brute force, filtered by <paramref name="accept"/>.</summary>
    internal static int[] BruteForce(VectorMetric metric, float[] points, int dimension, ReadOnlySpan<float> query, int k, Func<int, bool>? accept = null)
    {
        int count = points.Length / dimension;
        var scored = new List<(double Distance, int Index)>(count);
        for (int i = 0; i < count; i++)
        {
            if (accept is null || accept(i))
            {
                scored.Add((ExactDistance(metric, query, points.AsSpan(i * dimension, dimension)), i));
            }
        }

        scored.Sort((x, y) => x.Distance.CompareTo(y.Distance));
        return scored.Take(k).Select(s => s.Index).ToArray();
    }

    /// <summary>A temporary directory deleted on dispose.</summary>
    internal sealed class TempDirectory : IDisposable
    {
        internal TempDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ce-vectors-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        internal string Path { get; }

        internal string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
