using System.Buffers;

namespace CortexEdge.Core.Vectors;

/// <summary>
/// The best <c>capacity</c> (distance, item) pairs seen so far: a max-heap on distance so the worst
/// kept candidate is at the root and a better one replaces it in O(log capacity). Arrays come from
/// <see cref="ArrayPool{T}"/>; call <see cref="Return"/> when done. Not thread-safe: one per worker.
/// </summary>
internal struct CandidateHeap
{
    private float[] _distances;
    private int[] _items;

    internal CandidateHeap(int capacity)
    {
        Capacity = capacity;
        Count = 0;
        _distances = ArrayPool<float>.Shared.Rent(capacity);
        _items = ArrayPool<int>.Shared.Rent(capacity);
    }

    internal int Capacity { get; }

    internal int Count { get; private set; }

    /// <summary>Distance a new candidate must beat to be kept (+infinity until full).</summary>
    internal readonly float Threshold => Count < Capacity ? float.PositiveInfinity : _distances[0];

    internal readonly float DistanceAt(int index) => _distances[index];

    internal readonly int ItemAt(int index) => _items[index];

    /// <summary>Keeps (distance, item) if it beats <see cref="Threshold"/>; callers test that first to skip work.</summary>
    internal void Push(float distance, int item)
    {
        if (Count < Capacity)
        {
            int i = Count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (_distances[parent] >= distance)
                {
                    break;
                }

                _distances[i] = _distances[parent];
                _items[i] = _items[parent];
                i = parent;
            }

            _distances[i] = distance;
            _items[i] = item;
            return;
        }

        if (distance >= _distances[0])
        {
            return;
        }

        SiftDown(distance, item);
    }

    /// <summary>Empties the heap, keeping its arrays.</summary>
    internal void Clear() => Count = 0;

    internal void Return()
    {
        ArrayPool<float>.Shared.Return(_distances);
        ArrayPool<int>.Shared.Return(_items);
        _distances = [];
        _items = [];
        Count = 0;
    }

    private readonly void SiftDown(float distance, int item)
    {
        int count = Count;
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && _distances[child + 1] > _distances[child])
            {
                child++;
            }

            if (_distances[child] <= distance)
            {
                break;
            }

            _distances[i] = _distances[child];
            _items[i] = _items[child];
            i = child;
        }

        _distances[i] = distance;
        _items[i] = item;
    }
}
