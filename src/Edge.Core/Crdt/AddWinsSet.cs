using System.Buffers;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// Add-wins set (the optimized observed-remove set over dots): each add tags the element with a
/// new dot; the causal context (<see cref="DotSet"/>) records every dot ever seen. A remove is the
/// context of the element's current dots and nothing else: a dot that is in the context but not
/// in the set was removed, so no per-element tombstone exists. An add concurrent with a remove
/// survives (its dot was not observed by the remover). The context compacts structurally: once a
/// replica has seen all of another's events that entry is one interval, so metadata is bounded by
/// (live elements x concurrent adders) dots plus one interval per replica and per undelivered gap.
/// Not thread-safe.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class AddWinsSet<T> : IDeltaCrdt<AddWinsSet<T>>
    where T : notnull
{
    private readonly CrdtValueCodec<T> _codec;
    private DotStore<T> _store;
    private DotSet _context = new();

    /// <summary>Creates an empty set.</summary>
    public AddWinsSet(CrdtValueCodec<T> codec)
    {
        _codec = codec;
        _store = new DotStore<T>(codec);
    }

    /// <summary>Number of elements.</summary>
    public int Count => _store.ElementCount;

    /// <summary>The elements, in no particular order.</summary>
    public IEnumerable<T> Elements => _store.Elements;

    /// <summary>Number of dots tagging the live elements (metadata).</summary>
    public int DotCount => _store.DotCount;

    /// <summary>The causal context: every add this set has seen (removed ones included).</summary>
    public DotSet Context => _context;

    /// <summary>The codec of the elements.</summary>
    public CrdtValueCodec<T> Codec => _codec;

    /// <summary>True when <paramref name="element"/> is in the set.</summary>
    public bool Contains(T element) => _store.Contains(element);

    /// <summary>Adds <paramref name="element"/> as <paramref name="replica"/> and returns the delta to ship (one dot, plus the element's superseded dots in its context).</summary>
    public AddWinsSet<T> Add(ulong replica, T element)
    {
        ArgumentNullException.ThrowIfNull(element);
        var dot = new Dot(replica, _context.Max(replica) + 1);
        var delta = new AddWinsSet<T>(_codec);
        foreach (Dot old in _store.RemoveElement(element))
        {
            delta._context.Add(old);
        }

        delta._context.Add(dot);
        delta._store.Add(element, dot);
        _store.Add(element, dot);
        _context.Add(dot);
        return delta;
    }

    /// <summary>Removes <paramref name="element"/> and returns the delta to ship (the dots it observed, no tombstone). Removing an absent element yields an empty delta.</summary>
    public AddWinsSet<T> Remove(T element)
    {
        var delta = new AddWinsSet<T>(_codec);
        foreach (Dot old in _store.RemoveElement(element))
        {
            delta._context.Add(old);
        }

        return delta;
    }

    /// <summary>Removes every element and returns the delta.</summary>
    public AddWinsSet<T> Clear()
    {
        var delta = new AddWinsSet<T>(_codec);
        foreach (Dot dot in _store.ByDot.Keys)
        {
            delta._context.Add(dot);
        }

        _store.Clear();
        return delta;
    }

    /// <inheritdoc />
    public CrdtMergeOutcome Merge(AddWinsSet<T> other)
    {
        // Dots the other side has seen but no longer holds were removed there.
        bool changed = _store.RemoveSeenNotHeld(other._context, other._store);

        // Dots the other side holds that we never saw are new adds.
        foreach (KeyValuePair<Dot, T> entry in other._store.ByDot)
        {
            if (!_store.ContainsDot(entry.Key) && !_context.Contains(entry.Key))
            {
                _store.Add(entry.Value, entry.Key);
                changed = true;
            }
        }

        changed |= _context.UnionWith(other._context);
        return new CrdtMergeOutcome(changed, 0, 0);
    }

    /// <inheritdoc />
    public AddWinsSet<T> Clone() => new(_codec) { _store = _store.Clone(), _context = _context.Clone() };

    /// <inheritdoc />
    public bool StateEquals(AddWinsSet<T> other) => _store.StateEquals(other._store) && _context.SetEquals(other._context);

    /// <summary>
    /// Encoding: header, the causal context (<see cref="DotSet.Write"/>), then a varint element
    /// count and per element (codec order) the value, a varint dot count and the dots (two varints:
    /// the replica's index among the context's replicas, the counter). An add delta of a short
    /// string is about 20 bytes.
    /// </summary>
    public void Encode(IBufferWriter<byte> output)
    {
        var writer = new CrdtWriter(output);
        CrdtEncoding.WriteHeader(ref writer, CrdtKind.AddWinsSet);
        _context.Write(ref writer);
        _store.Write(ref writer, _context.SortedReplicaIds());
    }

    /// <summary>Decodes an encoding written by <see cref="Encode"/>; every element dot must be in the context.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtMalformed"/> naming the offset.</exception>
    public static AddWinsSet<T> Decode(ReadOnlySpan<byte> encoded, CrdtValueCodec<T> codec)
    {
        var reader = new CrdtReader(encoded);
        reader.ReadHeader(CrdtKind.AddWinsSet);
        DotSet context = DotSet.Read(ref reader);
        DotStore<T> store = DotStore<T>.Read(ref reader, codec, context.SortedReplicaIds(), context.Contains, "is not in the set's causal context");
        reader.ReadEnd();
        return new AddWinsSet<T>(codec) { _store = store, _context = context };
    }

    /// <inheritdoc />
    public override string ToString() => $"AddWinsSet {{{string.Join(", ", _store.Elements)}}} context {_context}";
}
