using System.Buffers;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// Observed-remove set with explicit, compacted tombstones: each add tags the element with a
/// unique tag (a <see cref="Dot"/>); a remove tombstones the tags it observed, so an add
/// concurrent with a remove survives. State: live tags per element plus the tombstone set, a
/// <see cref="DotSet"/> of removed tags, which coalesces into intervals: a replica's removed tags
/// form one interval per run between tags still live, so tombstones are bounded by live tags plus
/// one interval per replica, not by the number of removes. Unlike <see cref="AddWinsSet{T}"/> the
/// state records removals rather than everything seen, which makes a delta self-describing (a
/// remove delta is its tombstones) at the cost of those holes. Re-adding an element retires its
/// old tags. Not thread-safe.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class OrSet<T> : IDeltaCrdt<OrSet<T>>
    where T : notnull
{
    private readonly CrdtValueCodec<T> _codec;
    private DotStore<T> _live;
    private DotSet _tombstones = new();

    // Highest live tag per replica ever held here; with the tombstones it yields the next tag.
    private Dictionary<ulong, ulong> _highestLive = [];

    /// <summary>Creates an empty set.</summary>
    public OrSet(CrdtValueCodec<T> codec)
    {
        _codec = codec;
        _live = new DotStore<T>(codec);
    }

    /// <summary>Number of elements.</summary>
    public int Count => _live.ElementCount;

    /// <summary>The elements, in no particular order.</summary>
    public IEnumerable<T> Elements => _live.Elements;

    /// <summary>Number of live tags (metadata).</summary>
    public int TagCount => _live.DotCount;

    /// <summary>The tombstones: every removed tag, as intervals.</summary>
    public DotSet Tombstones => _tombstones;

    /// <summary>The codec of the elements.</summary>
    public CrdtValueCodec<T> Codec => _codec;

    /// <summary>True when <paramref name="element"/> is in the set.</summary>
    public bool Contains(T element) => _live.Contains(element);

    /// <summary>Adds <paramref name="element"/> as <paramref name="replica"/> and returns the delta (the new tag, and the element's old tags as tombstones).</summary>
    public OrSet<T> Add(ulong replica, T element)
    {
        ArgumentNullException.ThrowIfNull(element);
        var tag = new Dot(replica, Math.Max(_tombstones.Max(replica), _highestLive.GetValueOrDefault(replica)) + 1);
        OrSet<T> delta = Remove(element);
        delta.AddLive(element, tag);
        AddLive(element, tag);
        return delta;
    }

    /// <summary>Removes <paramref name="element"/> and returns the delta (its observed tags as tombstones). Removing an absent element yields an empty delta.</summary>
    public OrSet<T> Remove(T element)
    {
        var delta = new OrSet<T>(_codec);
        foreach (Dot tag in _live.RemoveElement(element))
        {
            _tombstones.Add(tag);
            delta._tombstones.Add(tag);
        }

        return delta;
    }

    /// <summary>Removes every element (their observed tags become tombstones) and returns the delta.</summary>
    public OrSet<T> Clear()
    {
        var delta = new OrSet<T>(_codec);
        foreach (T element in _live.Elements.ToList())
        {
            foreach (Dot tag in _live.RemoveElement(element))
            {
                _tombstones.Add(tag);
                delta._tombstones.Add(tag);
            }
        }

        return delta;
    }

    /// <inheritdoc />
    public CrdtMergeOutcome Merge(OrSet<T> other)
    {
        bool changed = _live.RemoveSeenNotHeld(other._tombstones, null);
        changed |= _tombstones.UnionWith(other._tombstones);
        foreach (KeyValuePair<Dot, T> entry in other._live.ByDot)
        {
            if (!_live.ContainsDot(entry.Key) && !_tombstones.Contains(entry.Key))
            {
                AddLive(entry.Value, entry.Key);
                changed = true;
            }
        }

        return new CrdtMergeOutcome(changed, 0, 0);
    }

    /// <inheritdoc />
    public OrSet<T> Clone() => new(_codec) { _live = _live.Clone(), _tombstones = _tombstones.Clone(), _highestLive = new Dictionary<ulong, ulong>(_highestLive) };

    /// <inheritdoc />
    public bool StateEquals(OrSet<T> other) => _live.StateEquals(other._live) && _tombstones.SetEquals(other._tombstones);

    /// <summary>
    /// Encoding: header, the tombstones (<see cref="DotSet.Write"/>), the replica table of the live
    /// tags (varint count, ascending 8-byte ids), then a varint element count and per element (codec
    /// order) the value, a varint tag count and the tags (two varints: replica index, counter).
    /// </summary>
    public void Encode(IBufferWriter<byte> output)
    {
        var writer = new CrdtWriter(output);
        CrdtEncoding.WriteHeader(ref writer, CrdtKind.OrSet);
        _tombstones.Write(ref writer);
        ulong[] replicaTable = _live.SortedReplicaIds();
        writer.WriteVarUInt64((ulong)replicaTable.Length);
        foreach (ulong replica in replicaTable)
        {
            writer.WriteUInt64(replica);
        }

        _live.Write(ref writer, replicaTable);
    }

    /// <summary>Decodes an encoding written by <see cref="Encode"/>; a live tag must not be tombstoned.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtMalformed"/> naming the offset.</exception>
    public static OrSet<T> Decode(ReadOnlySpan<byte> encoded, CrdtValueCodec<T> codec)
    {
        var reader = new CrdtReader(encoded);
        reader.ReadHeader(CrdtKind.OrSet);
        DotSet tombstones = DotSet.Read(ref reader);
        int tableOffset = reader.Offset;
        ulong[] replicaTable = new ulong[reader.ReadItemCount(8, "replica table size")];
        for (int i = 0; i < replicaTable.Length; i++)
        {
            int offset = reader.Offset;
            replicaTable[i] = reader.ReadUInt64();
            if (i > 0 && replicaTable[i] <= replicaTable[i - 1])
            {
                reader.Fail("replica table is not in strictly ascending order", offset);
            }
        }

        DotStore<T> live = DotStore<T>.Read(ref reader, codec, replicaTable, tag => !tombstones.Contains(tag), "is both live and tombstoned");
        if (live.SortedReplicaIds().Length != replicaTable.Length)
        {
            reader.Fail("replica table lists a replica no live tag uses", tableOffset);
        }

        reader.ReadEnd();
        var set = new OrSet<T>(codec) { _live = live, _tombstones = tombstones };
        foreach (Dot tag in live.ByDot.Keys)
        {
            set.NoteLive(tag);
        }

        return set;
    }

    /// <inheritdoc />
    public override string ToString() => $"OrSet {{{string.Join(", ", _live.Elements)}}} tombstones {_tombstones}";

    private void AddLive(T element, Dot tag)
    {
        _live.Add(element, tag);
        NoteLive(tag);
    }

    private void NoteLive(Dot tag)
    {
        if (tag.Counter > _highestLive.GetValueOrDefault(tag.Replica))
        {
            _highestLive[tag.Replica] = tag.Counter;
        }
    }
}
