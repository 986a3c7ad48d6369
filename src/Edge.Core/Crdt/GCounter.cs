using System.Buffers;

namespace CortexEdge.Core.Crdt;

/// <summary>
/// Grow-only counter: one non-decreasing total per replica; the value is their sum and merge takes
/// the per-replica maximum. An increment's delta is the incrementing replica's new total (one
/// entry), so re-delivering or reordering deltas never double-counts. Not thread-safe.
/// </summary>
public sealed class GCounter : IDeltaCrdt<GCounter>
{
    private readonly Dictionary<ulong, ulong> _totals = [];

    /// <summary>The counter's value: the sum of every replica's total (wraps past 2^64).</summary>
    public ulong Value
    {
        get
        {
            ulong sum = 0;
            foreach (ulong total in _totals.Values)
            {
                sum = unchecked(sum + total);
            }

            return sum;
        }
    }

    /// <summary>Number of replicas with a non-zero total (the metadata size).</summary>
    public int ReplicaCount => _totals.Count;

    /// <summary>The total contributed by <paramref name="replica"/>.</summary>
    public ulong TotalOf(ulong replica) => _totals.GetValueOrDefault(replica);

    /// <summary>Adds <paramref name="amount"/> on behalf of <paramref name="replica"/> and returns the delta to ship.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtCounterOverflow"/> when the replica's total would pass 2^64 - 1.</exception>
    public GCounter Increment(ulong replica, ulong amount)
    {
        var delta = new GCounter();
        if (amount == 0)
        {
            return delta;
        }

        ulong current = _totals.GetValueOrDefault(replica);
        if (current > ulong.MaxValue - amount)
        {
            throw new EdgeException(EdgeErrorCode.CrdtCounterOverflow, $"G-Counter total of replica {replica:x16} ({current}) + {amount} overflows 64 bits");
        }

        _totals[replica] = current + amount;
        delta._totals[replica] = current + amount;
        return delta;
    }

    /// <inheritdoc />
    public CrdtMergeOutcome Merge(GCounter other)
    {
        bool changed = false;
        foreach (KeyValuePair<ulong, ulong> entry in other._totals)
        {
            if (entry.Value > _totals.GetValueOrDefault(entry.Key))
            {
                _totals[entry.Key] = entry.Value;
                changed = true;
            }
        }

        return new CrdtMergeOutcome(changed, 0, 0);
    }

    /// <inheritdoc />
    public GCounter Clone()
    {
        var copy = new GCounter();
        foreach (KeyValuePair<ulong, ulong> entry in _totals)
        {
            copy._totals.Add(entry.Key, entry.Value);
        }

        return copy;
    }

    /// <inheritdoc />
    public bool StateEquals(GCounter other) =>
        _totals.Count == other._totals.Count && _totals.All(e => other._totals.TryGetValue(e.Key, out ulong v) && v == e.Value);

    /// <summary>
    /// Encoding: header, varint entry count, then per replica in ascending id order the fixed 8-byte
    /// id and a varint total. A one-replica delta of a small counter is 12 bytes.
    /// </summary>
    public void Encode(IBufferWriter<byte> output)
    {
        var writer = new CrdtWriter(output);
        CrdtEncoding.WriteHeader(ref writer, CrdtKind.GCounter);
        WriteBody(ref writer, _totals);
    }

    /// <summary>Decodes an encoding written by <see cref="Encode"/>.</summary>
    /// <exception cref="EdgeException"><see cref="EdgeErrorCode.CrdtMalformed"/> naming the offset.</exception>
    public static GCounter Decode(ReadOnlySpan<byte> encoded)
    {
        var reader = new CrdtReader(encoded);
        reader.ReadHeader(CrdtKind.GCounter);
        var counter = new GCounter();
        ReadBody(ref reader, counter._totals);
        reader.ReadEnd();
        return counter;
    }

    internal static void WriteBody(ref CrdtWriter writer, Dictionary<ulong, ulong> totals)
    {
        writer.WriteVarUInt64((ulong)totals.Count);
        ulong[] replicas = [.. totals.Keys];
        Array.Sort(replicas);
        foreach (ulong replica in replicas)
        {
            writer.WriteUInt64(replica);
            writer.WriteVarUInt64(totals[replica]);
        }
    }

    internal static void ReadBody(ref CrdtReader reader, Dictionary<ulong, ulong> totals)
    {
        int count = reader.ReadItemCount(9, "counter entry count");
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
            ulong total = reader.ReadVarUInt64();
            if (total == 0)
            {
                reader.Fail("counter entry with a zero total", offset);
            }

            totals.Add(replica, total);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"GCounter {Value} over {_totals.Count} replicas";
}
