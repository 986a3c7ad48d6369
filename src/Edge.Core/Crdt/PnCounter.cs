using System.Buffers;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// Counter that goes up and down: per replica a grow-only total of increments and one of
/// decrements; the value is their difference and merge takes per-replica maxima of each. The
/// delta of an update is the updating replica's entry. Not thread-safe.
/// </summary>
public sealed class PnCounter : IDeltaCrdt<PnCounter>
{
    private readonly Dictionary<ulong, Entry> _entries = [];

    /// <summary>The counter's value (increments minus decrements, wrapping in 64-bit two's complement).</summary>
    public long Value
    {
        get
        {
            ulong sum = 0;
            foreach (Entry entry in _entries.Values)
            {
                sum = unchecked(sum + entry.Increments - entry.Decrements);
            }

            return unchecked((long)sum);
        }
    }

    /// <summary>Number of replicas with an entry (the metadata size).</summary>
    public int ReplicaCount => _entries.Count;

    /// <summary>Adds <paramref name="amount"/> (negative to decrement) for <paramref name="replica"/> and returns the delta to ship.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtCounterOverflow"/> when the replica's increment or decrement total would pass 2^64 - 1.</exception>
    public PnCounter Increment(ulong replica, long amount)
    {
        var delta = new PnCounter();
        if (amount == 0)
        {
            return delta;
        }

        Entry current = _entries.GetValueOrDefault(replica);
        ulong magnitude = amount > 0 ? (ulong)amount : (ulong)(-(amount + 1)) + 1;
        ulong total = amount > 0 ? current.Increments : current.Decrements;
        if (total > ulong.MaxValue - magnitude)
        {
            throw new EdgeException(EdgeErrorCode.CrdtCounterOverflow, $"PN-Counter total of replica {replica:x16} ({total}) + {magnitude} overflows 64 bits");
        }

        Entry updated = amount > 0 ? current with { Increments = total + magnitude } : current with { Decrements = total + magnitude };
        _entries[replica] = updated;
        delta._entries[replica] = updated;
        return delta;
    }

    /// <inheritdoc />
    public CrdtMergeOutcome Merge(PnCounter other)
    {
        bool changed = false;
        foreach (KeyValuePair<ulong, Entry> entry in other._entries)
        {
            Entry mine = _entries.GetValueOrDefault(entry.Key);
            var joined = new Entry(Math.Max(mine.Increments, entry.Value.Increments), Math.Max(mine.Decrements, entry.Value.Decrements));
            if (joined != mine)
            {
                _entries[entry.Key] = joined;
                changed = true;
            }
        }

        return new CrdtMergeOutcome(changed, 0, 0);
    }

    /// <inheritdoc />
    public PnCounter Clone()
    {
        var copy = new PnCounter();
        foreach (KeyValuePair<ulong, Entry> entry in _entries)
        {
            copy._entries.Add(entry.Key, entry.Value);
        }

        return copy;
    }

    /// <inheritdoc />
    public bool StateEquals(PnCounter other) =>
        _entries.Count == other._entries.Count && _entries.All(e => other._entries.TryGetValue(e.Key, out Entry v) && v == e.Value);

    /// <summary>
    /// Encoding: header, varint entry count, then per replica in ascending id order the fixed 8-byte
    /// id and two varints (increment total, decrement total; not both zero).
    /// </summary>
    public void Encode(IBufferWriter<byte> output)
    {
        var writer = new CrdtWriter(output);
        CrdtEncoding.WriteHeader(ref writer, CrdtKind.PnCounter);
        writer.WriteVarUInt64((ulong)_entries.Count);
        ulong[] replicas = [.. _entries.Keys];
        Array.Sort(replicas);
        foreach (ulong replica in replicas)
        {
            Entry entry = _entries[replica];
            writer.WriteUInt64(replica);
            writer.WriteVarUInt64(entry.Increments);
            writer.WriteVarUInt64(entry.Decrements);
        }
    }

    /// <summary>Decodes an encoding written by <see cref="Encode"/>.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtMalformed"/> naming the offset.</exception>
    public static PnCounter Decode(ReadOnlySpan<byte> encoded)
    {
        var reader = new CrdtReader(encoded);
        reader.ReadHeader(CrdtKind.PnCounter);
        var counter = new PnCounter();
        int count = reader.ReadItemCount(10, "counter entry count");
        ulong previous = 0;
        for (int i = 0; i < count; i++)
        {
            int offset = reader.Offset;
            ulong replica = reader.ReadUInt64();
            if (i > 0 && replica <= previous)
            {
                reader.Fail("counter replicas are not in strictly ascending order", offset);
            }

            previous = replica;
            var entry = new Entry(reader.ReadVarUInt64(), reader.ReadVarUInt64());
            if (entry == default)
            {
                reader.Fail("counter entry with zero totals", offset);
            }

            counter._entries.Add(replica, entry);
        }

        reader.ReadEnd();
        return counter;
    }

    /// <inheritdoc />
    public override string ToString() => $"PnCounter {Value} over {_entries.Count} replicas";

    private readonly record struct Entry(ulong Increments, ulong Decrements);
}
