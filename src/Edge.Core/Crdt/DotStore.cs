namespace CortexEdge.Core.Crdt;

/// <summary>
/// The element -> dots map of the dot-based sets (<see cref="AddWinsSet{T}"/>, <see cref="OrSet{T}"/>),
/// with a reverse index dot -> element so that a merge touches only the dots a delta names.
/// Invariant: every dot belongs to exactly one element and no element has an empty dot list.
/// </summary>
internal sealed class DotStore<T>
    where T : notnull
{
    private readonly CrdtValueCodec<T> _codec;
    private readonly Dictionary<T, List<Dot>> _byElement;
    private readonly Dictionary<Dot, T> _byDot = [];

    public DotStore(CrdtValueCodec<T> codec)
    {
        _codec = codec;
        _byElement = new Dictionary<T, List<Dot>>(codec);
    }

    public int ElementCount => _byElement.Count;

    public int DotCount => _byDot.Count;

    public IEnumerable<T> Elements => _byElement.Keys;

    public IReadOnlyDictionary<Dot, T> ByDot => _byDot;

    public bool Contains(T element) => _byElement.ContainsKey(element);

    public bool ContainsDot(Dot dot) => _byDot.ContainsKey(dot);

    public bool TryGetElement(Dot dot, out T element) => _byDot.TryGetValue(dot, out element!);

    public IReadOnlyList<Dot> DotsOf(T element) => _byElement.TryGetValue(element, out List<Dot>? dots) ? dots : [];

    public void Add(T element, Dot dot)
    {
        if (!_byElement.TryGetValue(element, out List<Dot>? dots))
        {
            dots = new List<Dot>(1);
            _byElement.Add(element, dots);
        }

        int index = dots.BinarySearch(dot);
        if (index < 0)
        {
            dots.Insert(~index, dot);
            _byDot.Add(dot, element);
        }
    }

    public bool RemoveDot(Dot dot)
    {
        if (!_byDot.Remove(dot, out T? element))
        {
            return false;
        }

        List<Dot> dots = _byElement[element];
        dots.Remove(dot);
        if (dots.Count == 0)
        {
            _byElement.Remove(element);
        }

        return true;
    }

    /// <summary>Removes the element and returns its dots (empty when absent).</summary>
    public List<Dot> RemoveElement(T element)
    {
        if (!_byElement.Remove(element, out List<Dot>? dots))
        {
            return [];
        }

        foreach (Dot dot in dots)
        {
            _byDot.Remove(dot);
        }

        return dots;
    }

    /// <summary>The replicas of the held dots, ascending.</summary>
    public ulong[] SortedReplicaIds()
    {
        if (_byDot.Count == 0)
        {
            return [];
        }

        var replicas = new HashSet<ulong>();
        foreach (Dot dot in _byDot.Keys)
        {
            replicas.Add(dot.Replica);
        }

        ulong[] sorted = [.. replicas];
        Array.Sort(sorted);
        return sorted;
    }

    public void Clear()
    {
        _byElement.Clear();
        _byDot.Clear();
    }

    /// <summary>Removes every dot in <paramref name="seen"/> that <paramref name="keep"/> does not hold, visiting whichever side is smaller.</summary>
    public bool RemoveSeenNotHeld(DotSet seen, DotStore<T>? keep)
    {
        bool changed = false;
        if (seen.HasAtMostDots((ulong)_byDot.Count))
        {
            foreach (Dot dot in seen.EnumerateDots())
            {
                if (_byDot.ContainsKey(dot) && (keep is null || !keep.ContainsDot(dot)))
                {
                    changed |= RemoveDot(dot);
                }
            }
        }
        else
        {
            List<Dot>? doomed = null;
            foreach (Dot dot in _byDot.Keys)
            {
                if (seen.Contains(dot) && (keep is null || !keep.ContainsDot(dot)))
                {
                    (doomed ??= []).Add(dot);
                }
            }

            foreach (Dot dot in doomed ?? [])
            {
                changed |= RemoveDot(dot);
            }
        }

        return changed;
    }

    public DotStore<T> Clone()
    {
        var copy = new DotStore<T>(_codec);
        foreach (KeyValuePair<T, List<Dot>> entry in _byElement)
        {
            copy._byElement.Add(entry.Key, [.. entry.Value]);
        }

        foreach (KeyValuePair<Dot, T> entry in _byDot)
        {
            copy._byDot.Add(entry.Key, entry.Value);
        }

        return copy;
    }

    public bool StateEquals(DotStore<T> other)
    {
        if (_byDot.Count != other._byDot.Count || _byElement.Count != other._byElement.Count)
        {
            return false;
        }

        foreach (KeyValuePair<Dot, T> entry in _byDot)
        {
            if (!other._byDot.TryGetValue(entry.Key, out T? theirs) || !_codec.Equals(entry.Value, theirs))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Varint element count; per element in codec order: value, varint dot count, dots ascending (<see cref="DotSet.WriteDot"/> against <paramref name="replicaTable"/>).</summary>
    public void Write(ref CrdtWriter writer, ulong[] replicaTable)
    {
        writer.WriteVarUInt64((ulong)_byElement.Count);
        T[] elements = [.. _byElement.Keys];
        Array.Sort(elements, _codec);
        foreach (T element in elements)
        {
            List<Dot> dots = _byElement[element];
            _codec.Write(ref writer, element);
            writer.WriteVarUInt64((ulong)dots.Count);
            foreach (Dot dot in dots)
            {
                DotSet.WriteDot(ref writer, dot, replicaTable);
            }
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote; every dot must satisfy <paramref name="dotAllowed"/>.</summary>
    public static DotStore<T> Read(ref CrdtReader reader, CrdtValueCodec<T> codec, ulong[] replicaTable, Func<Dot, bool> dotAllowed, string dotRule)
    {
        var store = new DotStore<T>(codec);
        int elementCount = reader.ReadItemCount(2, "element count");
        T? previous = default;
        for (int e = 0; e < elementCount; e++)
        {
            int elementOffset = reader.Offset;
            T element = codec.Read(ref reader);
            if (e > 0 && codec.Compare(previous, element) >= 0)
            {
                reader.Fail("set elements are not in strictly ascending order", elementOffset);
            }

            previous = element;
            int dotCount = reader.ReadItemCount(2, "dot count");
            if (dotCount == 0)
            {
                reader.Fail("set element without a dot", elementOffset);
            }

            var dots = new List<Dot>(dotCount);
            for (int d = 0; d < dotCount; d++)
            {
                int dotOffset = reader.Offset;
                Dot dot = DotSet.ReadDot(ref reader, replicaTable);
                if (d > 0 && dot.CompareTo(dots[^1]) <= 0)
                {
                    reader.Fail("element dots are not in strictly ascending order", dotOffset);
                }

                if (!dotAllowed(dot))
                {
                    reader.Fail($"dot {dot} {dotRule}", dotOffset);
                }

                if (!store._byDot.TryAdd(dot, element))
                {
                    reader.Fail($"dot {dot} tags two elements", dotOffset);
                }

                dots.Add(dot);
            }

            store._byElement.Add(element, dots);
        }

        return store;
    }
}
