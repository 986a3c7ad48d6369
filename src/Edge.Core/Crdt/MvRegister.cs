using System.Buffers;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// Multi-value register: a write replaces every value its replica has observed, and concurrent
/// writes all survive as siblings. The application reads <see cref="Values"/>, and when there is
/// more than one, resolves by writing the value it wants (which supersedes all it observed).
/// State: (dot, value) entries plus a causal context (<see cref="DotSet"/>) of every write seen,
/// so an overwritten value needs no tombstone. The delta of a write is the new entry and the dots
/// it supersedes. Not thread-safe.
/// </summary>
/// <typeparam name="T">The value type.</typeparam>
public sealed class MvRegister<T> : IDeltaCrdt<MvRegister<T>>
    where T : notnull
{
    private readonly CrdtValueCodec<T> _codec;

    // Sorted by dot; a handful of entries at most (one per concurrent writer).
    private readonly List<(Dot Dot, T Value)> _entries = [];
    private DotSet _context = new();

    /// <summary>Creates a register nobody has written.</summary>
    public MvRegister(CrdtValueCodec<T> codec)
    {
        _codec = codec;
    }

    /// <summary>The current values, one per concurrent write (ordered by replica id, then event); empty when never written.</summary>
    public IReadOnlyList<T> Values => _entries.ConvertAll(e => e.Value);

    /// <summary>The current entries with the dot of the write that produced each.</summary>
    public IReadOnlyList<(Dot Dot, T Value)> Entries => _entries;

    /// <summary>Number of current values (1 when there is no conflict).</summary>
    public int SiblingCount => _entries.Count;

    /// <summary>The causal context: every write this register has seen.</summary>
    public DotSet Context => _context;

    /// <summary>The codec of the values.</summary>
    public CrdtValueCodec<T> Codec => _codec;

    /// <summary>Writes <paramref name="value"/> as <paramref name="replica"/>, superseding every current sibling, and returns the delta to ship.</summary>
    public MvRegister<T> Write(ulong replica, T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var dot = new Dot(replica, _context.Max(replica) + 1);
        var delta = new MvRegister<T>(_codec);
        foreach ((Dot old, T _) in _entries)
        {
            delta._context.Add(old);
        }

        delta._context.Add(dot);
        delta._entries.Add((dot, value));
        _entries.Clear();
        _entries.Add((dot, value));
        _context.Add(dot);
        return delta;
    }

    /// <summary>Removes every current sibling (observed-remove: a concurrent write survives) and returns the delta: the superseded dots, no entry.</summary>
    public MvRegister<T> Clear()
    {
        var delta = new MvRegister<T>(_codec);
        foreach ((Dot old, T _) in _entries)
        {
            delta._context.Add(old);
        }

        _entries.Clear();
        return delta;
    }

    /// <inheritdoc />
    public CrdtMergeOutcome Merge(MvRegister<T> other)
    {
        int before = _entries.Count;
        bool changed = false;

        // Keep an entry of ours unless the other side has seen its dot and no longer holds it.
        for (int i = _entries.Count - 1; i >= 0; i--)
        {
            Dot dot = _entries[i].Dot;
            if (other._context.Contains(dot) && !other.HoldsDot(dot))
            {
                _entries.RemoveAt(i);
                changed = true;
            }
        }

        // Take an entry of theirs unless we have seen its dot (and so superseded it) or hold it already.
        foreach ((Dot dot, T value) in other._entries)
        {
            if (!HoldsDot(dot) && !_context.Contains(dot))
            {
                int index = _entries.BinarySearch((dot, value), EntryOrder.Instance);
                _entries.Insert(~index, (dot, value));
                changed = true;
            }
        }

        changed |= _context.UnionWith(other._context);
        int created = Math.Max(0, _entries.Count - Math.Max(before, 1));
        return new CrdtMergeOutcome(changed, 0, created);
    }

    /// <inheritdoc />
    public MvRegister<T> Clone()
    {
        var copy = new MvRegister<T>(_codec) { _context = _context.Clone() };
        copy._entries.AddRange(_entries);
        return copy;
    }

    /// <inheritdoc />
    public bool StateEquals(MvRegister<T> other)
    {
        if (_entries.Count != other._entries.Count || !_context.SetEquals(other._context))
        {
            return false;
        }

        for (int i = 0; i < _entries.Count; i++)
        {
            if (_entries[i].Dot != other._entries[i].Dot || !_codec.Equals(_entries[i].Value, other._entries[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Encoding: header, the causal context (<see cref="DotSet.Write"/>), a varint entry count, then
    /// per entry in dot order the dot (two varints: the replica's index among the context's
    /// replicas, the counter) and the value.
    /// </summary>
    public void Encode(IBufferWriter<byte> output)
    {
        var writer = new CrdtWriter(output);
        CrdtEncoding.WriteHeader(ref writer, CrdtKind.MvRegister);
        _context.Write(ref writer);
        ulong[] replicaTable = _context.SortedReplicaIds();
        writer.WriteVarUInt64((ulong)_entries.Count);
        foreach ((Dot dot, T value) in _entries)
        {
            DotSet.WriteDot(ref writer, dot, replicaTable);
            _codec.Write(ref writer, value);
        }
    }

    /// <summary>Decodes an encoding written by <see cref="Encode"/>.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtMalformed"/> naming the offset.</exception>
    public static MvRegister<T> Decode(ReadOnlySpan<byte> encoded, CrdtValueCodec<T> codec)
    {
        var reader = new CrdtReader(encoded);
        reader.ReadHeader(CrdtKind.MvRegister);
        var register = new MvRegister<T>(codec) { _context = DotSet.Read(ref reader) };
        ulong[] replicaTable = register._context.SortedReplicaIds();
        int count = reader.ReadItemCount(2, "entry count");
        for (int i = 0; i < count; i++)
        {
            int offset = reader.Offset;
            Dot dot = DotSet.ReadDot(ref reader, replicaTable);
            if (!register._context.Contains(dot))
            {
                reader.Fail($"entry dot {dot} is not in the register's causal context", offset);
            }

            if (i > 0 && dot.CompareTo(register._entries[^1].Dot) <= 0)
            {
                reader.Fail("entries are not in strictly ascending dot order", offset);
            }

            register._entries.Add((dot, codec.Read(ref reader)));
        }

        reader.ReadEnd();
        return register;
    }

    /// <inheritdoc />
    public override string ToString() => $"MvRegister [{string.Join(", ", _entries.Select(e => $"{e.Value}@{e.Dot}"))}]";

    private bool HoldsDot(Dot dot)
    {
        foreach ((Dot held, T _) in _entries)
        {
            if (held == dot)
            {
                return true;
            }
        }

        return false;
    }

    private sealed class EntryOrder : IComparer<(Dot Dot, T Value)>
    {
        public static readonly EntryOrder Instance = new();

        public int Compare((Dot Dot, T Value) x, (Dot Dot, T Value) y) => x.Dot.CompareTo(y.Dot);
    }
}
