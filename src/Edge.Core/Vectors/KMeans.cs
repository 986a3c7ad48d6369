namespace CortexEdge.Core.Vectors;

/// <summary>
/// Lloyd's k-means on a sample, for the coarse partitions. Deterministic for a given seed. The
/// assignment step runs in parallel over sample points; the cost is samples * k * dimension per
/// iteration, so callers bound the sample (a few dozen points per centroid is enough to place
/// partitions; exact placement matters little because searches probe several).
/// </summary>
internal static class KMeans
{
    /// <summary>
    /// Trains <paramref name="k"/> centroids from <paramref name="sampleCount"/> points stored
    /// row-major in <paramref name="samples"/>. Returns k * dimension floats.
    /// </summary>
    internal static float[] Train(float[] samples, int sampleCount, int dimension, int k, int iterations, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleCount, k, nameof(sampleCount));
        var random = new Random(seed);
        float[] centroids = new float[k * dimension];

        // Initial centroids: k distinct sample points (partial Fisher-Yates over the indexes).
        int[] order = new int[sampleCount];
        for (int i = 0; i < sampleCount; i++)
        {
            order[i] = i;
        }

        for (int c = 0; c < k; c++)
        {
            int pick = random.Next(c, sampleCount);
            (order[c], order[pick]) = (order[pick], order[c]);
            samples.AsSpan(order[c] * dimension, dimension).CopyTo(centroids.AsSpan(c * dimension, dimension));
        }

        int[] assignment = new int[sampleCount];
        double[] sums = new double[k * dimension];
        int[] counts = new int[k];
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            float[] current = centroids;
            Parallel.For(0, sampleCount, i =>
                assignment[i] = Nearest(samples.AsSpan(i * dimension, dimension), current, k, dimension));

            Array.Clear(sums);
            Array.Clear(counts);
            for (int i = 0; i < sampleCount; i++)
            {
                int c = assignment[i];
                counts[c]++;
                ReadOnlySpan<float> point = samples.AsSpan(i * dimension, dimension);
                Span<double> sum = sums.AsSpan(c * dimension, dimension);
                for (int d = 0; d < dimension; d++)
                {
                    sum[d] += point[d];
                }
            }

            for (int c = 0; c < k; c++)
            {
                Span<float> centroid = centroids.AsSpan(c * dimension, dimension);
                if (counts[c] == 0)
                {
                    // An empty cluster restarts at a random point so no partition stays unused.
                    samples.AsSpan(random.Next(sampleCount) * dimension, dimension).CopyTo(centroid);
                    continue;
                }

                ReadOnlySpan<double> sum = sums.AsSpan(c * dimension, dimension);
                double inverse = 1.0 / counts[c];
                for (int d = 0; d < dimension; d++)
                {
                    centroid[d] = (float)(sum[d] * inverse);
                }
            }
        }

        return centroids;
    }

    /// <summary>Index of the centroid nearest to <paramref name="point"/> by squared L2.</summary>
    internal static int Nearest(ReadOnlySpan<float> point, float[] centroids, int k, int dimension)
    {
        int best = 0;
        float bestDistance = float.PositiveInfinity;
        for (int c = 0; c < k; c++)
        {
            float distance = FloatKernels.SquaredL2(point, centroids.AsSpan(c * dimension, dimension));
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = c;
            }
        }

        return best;
    }
}
